using Cnn.Build;
using TorchSharp;

namespace Cnn.Train;

/// <summary>libtorch could not be loaded; the message says which library or symbol version is missing.</summary>
public sealed class TorchUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Loads libtorch once, picks the device, and turns load failures into an actionable message.</summary>
public static class TorchRuntime
{
    public const string NativeLibrary = "libLibTorchSharp.so";

    /// <summary>
    /// Touches libtorch so a load failure surfaces here, as a <see cref="TorchUnavailableException"/> that names what
    /// is missing instead of TorchSharp's misleading "doesn't contain a reference to libtorch-cpu-linux-x64". Turns
    /// NNPACK off (<see cref="OneDnnGuard.NnpackOff"/>).
    /// </summary>
    public static void EnsureLoaded()
    {
        try
        {
            using var probe = torch.zeros(1);
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
        {
            throw new TorchUnavailableException(Diagnose(AppContext.BaseDirectory), e);
        }

        OneDnnGuard.NnpackOff();
    }

    /// <summary>auto: CUDA when libtorch sees a GPU, else CPU. cuda without a GPU is an error.</summary>
    public static torch.Device ResolveDevice(Cnn.Contracts.ExecutionDevice device)
    {
        EnsureLoaded();
        return device switch
        {
            Cnn.Contracts.ExecutionDevice.Cpu => torch.CPU,
            Cnn.Contracts.ExecutionDevice.Cuda when torch.cuda.is_available() => torch.CUDA,
            Cnn.Contracts.ExecutionDevice.Cuda => throw new InvalidOperationException(
                "--device cuda: libtorch sees no CUDA device (this build uses libtorch-cpu unless built with -p:TorchBackend=cuda)"),
            Cnn.Contracts.ExecutionDevice.Auto => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            _ => throw new ArgumentException($"device {device}; expected auto, cpu or cuda", nameof(device)),
        };
    }

    /// <summary>The device a resolved libtorch device is, as runs record it.</summary>
    public static Cnn.Contracts.ExecutionDevice Describe(torch.Device device) =>
        device.type == DeviceType.CUDA ? Cnn.Contracts.ExecutionDevice.Cuda : Cnn.Contracts.ExecutionDevice.Cpu;

    /// <summary>
    /// Explains why libLibTorchSharp.so in <paramref name="folder"/> would not load: every symbol version it needs from a
    /// system library that the system's copy does not define.
    /// </summary>
    public static string Diagnose(string folder)
    {
        string library = Path.Combine(folder, NativeLibrary);
        if (!File.Exists(library))
        {
            return $"libtorch could not be loaded: {library} is missing. Build with the default libtorch-cpu package "
                + "or -p:TorchBackend=cuda, for the linux-x64 runtime.";
        }

        var missing = new List<string>();
        try
        {
            var byFile = ElfSymbolVersions.ReadNeeds(File.ReadAllBytes(library), library)
                .Where(n => !n.IsWeak)
                .GroupBy(n => n.File);
            foreach (var group in byFile)
            {
                string? system = ElfSymbolVersions.FindSystemLibrary(group.Key);
                if (system == null)
                {
                    continue;
                }

                var defined = ElfSymbolVersions.ReadDefinitions(File.ReadAllBytes(system), system).ToHashSet();
                foreach (var need in group.Where(n => !defined.Contains(n.Version)))
                {
                    string newest = defined.Where(d => d.StartsWith(VersionFamily(need.Version), StringComparison.Ordinal))
                        .OrderBy(d => d, VersionOrder.Instance).LastOrDefault() ?? "none of that family";
                    missing.Add($"{need.Version} from {group.Key} (the system's {system} provides up to {newest})");
                }
            }
        }
        catch (InvalidDataException e)
        {
            return $"libtorch could not be loaded, and {library} could not be inspected: {e.Message}";
        }

        if (missing.Count == 0)
        {
            return $"libtorch could not be loaded from {folder}, though every symbol version {NativeLibrary} needs is present; "
                + "check that the libtorch-cpu-linux-x64 natives (libtorch_cpu.so, libc10.so) are beside it.";
        }

        return $"libtorch could not be loaded: {NativeLibrary} needs " + string.Join("; ", missing)
            + ". The build marks GLIBCXX_3.4.32 weak in its output copy when the system lacks it; rebuild (dotnet build) "
            + "on this machine, or install a newer libstdc++ (GCC 13 or later).";
    }

    private static string VersionFamily(string version)
    {
        int underscore = version.IndexOf('_', StringComparison.Ordinal);
        return underscore < 0 ? version : version[..(underscore + 1)];
    }

    /// <summary>Orders GLIBCXX_3.4.9 before GLIBCXX_3.4.30 by comparing the numeric parts.</summary>
    private sealed class VersionOrder : IComparer<string>
    {
        public static readonly VersionOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Numbers(x);
            var b = Numbers(y);
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                int c = a[i].CompareTo(b[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return a.Length.CompareTo(b.Length);
        }

        private static int[] Numbers(string? s) =>
            (s ?? "").Split('_', '.').Select(p => int.TryParse(p, out int n) ? n : -1).Where(n => n >= 0).ToArray();
    }
}
