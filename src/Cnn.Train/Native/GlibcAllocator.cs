using System.Runtime.InteropServices;

namespace Cnn.Train;

/// <summary>
/// glibc's malloc returns the top of the heap to the OS whenever more than 128 KiB is free there, and serves large
/// blocks with mmap/munmap, so libtorch's per-batch activations are faulted in afresh every step. Raising the trim
/// threshold and pinning the mmap threshold keeps that memory in the process: the same effect as running with
/// MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ set, without asking users to set them.
/// </summary>
public static class GlibcAllocator
{
    private const int MTrimThreshold = -1;
    private const int MMmapThreshold = -3;

    /// <summary>Freed memory kept before trimming: 1 GB, as in the brief's MALLOC_TRIM_THRESHOLD_=1e9.</summary>
    public const int TrimThresholdBytes = 1_000_000_000;

    /// <summary>glibc's ceiling for the mmap threshold on 64-bit (HEAP_MAX_SIZE / 2); larger values are refused.</summary>
    public const int MmapThresholdBytes = 32 * 1024 * 1024;

    /// <summary>
    /// Applies both settings on Linux with glibc unless the user set either variable (then theirs stand). Returns what it
    /// did, for the log.
    /// </summary>
    public static string RetainFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "allocator: not glibc, left as is";
        }

        if (Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") != null || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") != null)
        {
            return "allocator: MALLOC_*_THRESHOLD_ set in the environment, left as is";
        }

        try
        {
            bool trim = mallopt(MTrimThreshold, TrimThresholdBytes) == 1;
            bool mmap = mallopt(MMmapThreshold, MmapThresholdBytes) == 1;
            return $"allocator: glibc trim threshold {(trim ? "1 GB" : "unchanged")}, mmap threshold {(mmap ? "32 MiB" : "unchanged")}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "allocator: no glibc mallopt (musl?), left as is";
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
