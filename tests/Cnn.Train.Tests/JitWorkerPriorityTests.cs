using System.Runtime.InteropServices;

namespace Cnn.Train.Tests;

public class JitWorkerPriorityTests
{
    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    [Fact]
    public void Moves_the_tiered_compilation_worker_to_sched_idle_and_leaves_other_threads()
    {
        using var worker = new NamedThread(".NET Tiered Compilation Worker");
        using var other = new NamedThread("cnn test thread");
        Assert.Equal(SchedOther, JitWorkerPriority.PolicyOf(worker.Tid));

        int moved = JitWorkerPriority.Lower();

        Assert.True(moved >= 1, $"moved {moved} threads");
        Assert.Equal(SchedIdle, JitWorkerPriority.PolicyOf(worker.Tid));
        Assert.Equal(SchedOther, JitWorkerPriority.PolicyOf(other.Tid));
    }

    [Fact]
    public void Finds_a_worker_named_after_an_earlier_look()
    {
        // A new thread carries its creator's name until it is named: a look in between must not settle it.
        using var late = new NamedThread(null);
        JitWorkerPriority.Lower();
        Assert.Equal(SchedOther, JitWorkerPriority.PolicyOf(late.Tid));

        late.Rename(".NET Tiered Compilation Worker");
        JitWorkerPriority.Lower();

        Assert.Equal(SchedIdle, JitWorkerPriority.PolicyOf(late.Tid));
    }

    [Fact]
    public void A_new_watch_looks_at_once()
    {
        using var worker = new NamedThread(".NET Tiered Compilation Worker");
        new JitWorkerPriority().LowerIfDue();
        Assert.Equal(SchedIdle, JitWorkerPriority.PolicyOf(worker.Tid));
    }

    /// <summary>A thread that reports its Linux thread id and waits until disposed.</summary>
    private sealed class NamedThread : IDisposable
    {
        private readonly ManualResetEventSlim _started = new();
        private readonly ManualResetEventSlim _stop = new();
        private readonly Thread _thread;

        public NamedThread(string? name)
        {
            _thread = new Thread(() =>
            {
                Tid = gettid();
                _started.Set();
                _stop.Wait();
            })
            { Name = name, IsBackground = true };
            _thread.Start();
            _started.Wait();
        }

        public int Tid { get; private set; }

        public void Rename(string name) => _thread.Name = name;

        public void Dispose()
        {
            _stop.Set();
            _thread.Join();
            _started.Dispose();
            _stop.Dispose();
        }
    }

    [DllImport("libc")]
    private static extern int gettid();
}
