using System.Collections.Concurrent;

namespace Cnn.Inference;

/// <summary>
/// Reusable native-bound buffers for single-image calls, rented per call and returned after it. At most
/// <see cref="Capacity"/> are kept, so memory stays bounded however many threads (short-lived or pooled) call in; a
/// buffer returned to a full pool is disposed.
/// </summary>
internal sealed class BufferPool<T>(Func<T> create, int capacity) : IDisposable
    where T : class, IDisposable
{
    private readonly ConcurrentQueue<T> _idle = new();
    private int _count;

    public int Capacity { get; } = capacity;

    public int IdleCount => _idle.Count;

    public T Rent()
    {
        if (_idle.TryDequeue(out var buffer))
        {
            Interlocked.Decrement(ref _count);
            return buffer;
        }

        return create();
    }

    public void Return(T buffer)
    {
        if (Interlocked.Increment(ref _count) <= Capacity)
        {
            _idle.Enqueue(buffer);
            return;
        }

        Interlocked.Decrement(ref _count);
        buffer.Dispose();
    }

    /// <summary>Disposes the idle buffers; call once no call is in flight.</summary>
    public void Dispose()
    {
        while (_idle.TryDequeue(out var buffer))
        {
            buffer.Dispose();
        }
    }
}
