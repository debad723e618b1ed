namespace Cnn.Serve;

/// <summary>
/// The bytes of feature-map responses the server holds at once, counted from a request's admission until its response
/// has been written to the client: a client that reads slowly keeps its share, so twenty slow readers of large answers
/// meet <see cref="ServeOptions.FeatureMemoryBytes"/> (503 with Retry-After) instead of the machine's memory.
/// </summary>
internal sealed class FeatureMemory(ServeOptions options)
{
    private long _held;

    /// <summary>Reserves <paramref name="bytes"/> until the returned reservation is disposed (once the response is written).</summary>
    /// <exception cref="ApiException">503: the reservation would pass the limit.</exception>
    public IDisposable Reserve(long bytes)
    {
        long after = Interlocked.Add(ref _held, bytes);
        if (after > options.FeatureMemoryBytes)
        {
            Interlocked.Add(ref _held, -bytes);
            throw new ApiException(503, "Busy",
                $"feature-map answers of {after - bytes:N0} bytes are still being written to their clients, and this one needs {bytes:N0}; the limit is {options.FeatureMemoryBytes:N0} (--feature-memory); retry after 1 s")
            { RetryAfterSeconds = 1 };
        }

        return new Reservation(this, bytes);
    }

    private sealed class Reservation(FeatureMemory owner, long bytes) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Add(ref owner._held, -bytes);
            }
        }
    }
}
