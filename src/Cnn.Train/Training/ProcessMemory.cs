namespace Cnn.Train.Training;

/// <summary>Resident memory of this process, from /proc on Linux (0 elsewhere).</summary>
public static class ProcessMemory
{
    public static double RssMegabytes() => ReadStatusKilobytes("VmRSS:") / 1024.0;

    /// <summary>High-water mark of resident memory since the process started.</summary>
    public static double PeakRssMegabytes() => ReadStatusKilobytes("VmHWM:") / 1024.0;

    /// <summary>Memory the kernel could give this process now without swapping (MemAvailable); 0 where unknown.</summary>
    public static long AvailableBytes() => ReadKilobytes("/proc/meminfo", "MemAvailable:") * 1024;

    private static long ReadStatusKilobytes(string key) => ReadKilobytes("/proc/self/status", key);

    private static long ReadKilobytes(string file, string key)
    {
        if (!File.Exists(file))
        {
            return 0;
        }

        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
