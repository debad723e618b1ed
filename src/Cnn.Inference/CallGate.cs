namespace Cnn.Inference;

/// <summary>
/// Counts calls in flight so that disposal waits for them: a call entered before <see cref="Close"/> finishes on live
/// native resources, and one entered after it throws <see cref="ObjectDisposedException"/>. Entering costs two
/// interlocked operations.
/// </summary>
internal sealed class CallGate(object owner)
{
    private int _active;
    private int _closed;

    /// <summary>Enters a call; dispose the scope when it ends.</summary>
    public Scope Enter()
    {
        Interlocked.Increment(ref _active);
        if (Volatile.Read(ref _closed) != 0)
        {
            Interlocked.Decrement(ref _active);
            throw new ObjectDisposedException(owner.GetType().Name);
        }

        return new Scope(this);
    }

    /// <summary>Refuses new calls and waits until the ones in flight have left; true the first time only.</summary>
    public bool Close()
    {
        // Exchange is a full fence: a call that incremented before this line is seen below, and one that increments
        // after it sees _closed.
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        var spin = new SpinWait();
        while (Volatile.Read(ref _active) != 0)
        {
            spin.SpinOnce();
        }

        return true;
    }

    internal readonly struct Scope(CallGate gate) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref gate._active);
    }
}
