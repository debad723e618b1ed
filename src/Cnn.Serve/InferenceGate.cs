using System.Threading.RateLimiting;

namespace Cnn.Serve;

/// <summary>
/// Admission to inference, taken only once a request's body has arrived: a slow upload costs its own connection and
/// nothing else. Decoding and preprocessing run inside the admission, since they are the costly part of an image.
/// At most <see cref="ServeOptions.MaxConcurrency"/> requests are admitted at once: as many run as there are cores
/// (or fewer, if the limit is lower), the rest wait in order, and past the limit a request is refused at once with
/// 503 and Retry-After.
/// </summary>
internal sealed class InferenceGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly int _limit;

    public InferenceGate(ServeOptions options)
    {
        _limit = options.MaxConcurrency;
        int running = Math.Min(Environment.ProcessorCount, _limit);
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = running,
            QueueLimit = _limit - running,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>A place among the admitted requests, held until disposed.</summary>
    /// <exception cref="ApiException">503: <see cref="ServeOptions.MaxConcurrency"/> requests are already admitted.</exception>
    public async ValueTask<IDisposable> EnterAsync(CancellationToken cancel)
    {
        var lease = await _limiter.AcquireAsync(1, cancel);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        throw new ApiException(503, "Busy", $"{_limit} inference requests are already admitted (--max-concurrency); retry after 1 s") { RetryAfterSeconds = 1 };
    }

    public void Dispose() => _limiter.Dispose();
}
