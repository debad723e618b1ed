using System.Globalization;
using System.Runtime.InteropServices;

namespace Cnn.Train;

/// <summary>
/// Keeps .NET's tiered-compilation worker off the cores libtorch computes on. The runtime recompiles hot methods on a
/// background thread; with as many OpenMP threads as cores, that thread preempts an OpenMP worker in the middle of a
/// parallel region and the other workers spin at the barrier until it is back. On the CIFAR net at 2 threads it cost 4 %
/// of the training speed and 12 % of the evaluation speed, single evaluation batches taking 3× their time
/// (bench/README.md, "Threads and warm-up"). Under Linux's <c>SCHED_IDLE</c> policy the worker runs only on an
/// otherwise idle core — between batches, while libtorch's threads sleep — and the recompiled code still arrives.
/// Turning tiered compilation off for the process does as much for training, but takes over a quarter of
/// <c>cnn serve</c>'s throughput and adds 200 ms to every command's start-up.
/// </summary>
internal sealed class JitWorkerPriority
{
    /// <summary>
    /// The longest a newly started worker competes with libtorch: two LeNet-5 batches or a third of a CIFAR one. A look
    /// costs about 10 µs per thread of the process.
    /// </summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private long _lastLook;

    /// <summary>The worker's name as Linux keeps it: ".NET Tiered Compilation Worker" cut to 15 bytes.</summary>
    internal const string WorkerName = ".NET Tiered Com";

    private const int SchedIdle = 5;

    /// <summary>
    /// Moves every thread of this process named <see cref="WorkerName"/> to <c>SCHED_IDLE</c>. The runtime ends the
    /// worker when it has been idle a while and starts a new one later, so callers repeat this between batches. Every
    /// thread's name is read each time — a new thread carries its creator's name until it is named, so no name can be
    /// taken as final — which costs a few microseconds per thread. Returns how many threads it moved; does nothing off
    /// Linux, and nothing where /proc or the scheduler calls are closed to the process (a sandbox, musl without these
    /// symbols): training then runs as it did before, only slower on few cores.
    /// </summary>
    public static int Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            return LowerNamedThreads();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
    }

    private static int LowerNamedThreads()
    {
        int moved = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid)
                && ReadComm(task) == WorkerName && sched_getscheduler(tid) != SchedIdle)
            {
                var none = new SchedParam();
                moved += sched_setscheduler(tid, SchedIdle, ref none) == 0 ? 1 : 0;
            }
        }

        return moved;
    }

    /// <summary>Calls <see cref="Lower"/> when <see cref="Interval"/> has passed since this instance last did.</summary>
    public void LowerIfDue()
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_lastLook == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(_lastLook, now) >= Interval)
        {
            _lastLook = now;
            Lower();
        }
    }

    /// <summary>A thread's scheduling policy (<c>SCHED_IDLE</c> is 5), or -1 when it has gone.</summary>
    internal static int PolicyOf(int tid) => sched_getscheduler(tid);

    private static string? ReadComm(string task)
    {
        try
        {
            using var handle = File.OpenHandle(Path.Combine(task, "comm"));
            Span<byte> name = stackalloc byte[32];
            int length = RandomAccess.Read(handle, name, 0);
            return System.Text.Encoding.UTF8.GetString(name[..length]).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the thread ended while we looked
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setscheduler(int pid, int policy, ref SchedParam param);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_getscheduler(int pid);
}
