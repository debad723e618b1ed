using Prometheus;

namespace Cnn.Serve;

/// <summary>
/// The server's Prometheus metrics, in a registry of its own (no process-wide state): HTTP requests by route and status
/// with their durations and the requests in flight (prometheus-net's middleware), plus inference time per model and
/// call, model load time, and failed reloads.
/// </summary>
internal sealed class ServeMetrics
{
    public ServeMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        Inference = factory.CreateHistogram("cnn_inference_duration_seconds", "Time in ONNX Runtime and preprocessing per request, by model and call.",
            ["model", "call"], new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00002, 2, 16) });
        LoadSeconds = factory.CreateGauge("cnn_model_load_seconds", "How long the model's last load and warm-up took.", ["model"]);
        Reloads = factory.CreateCounter("cnn_model_reloads_total", "Model files swapped in after they changed on disk.", ["model"]);
        FailedReloads = factory.CreateCounter("cnn_model_reload_failures_total", "Changed model files that could not be served; the previous model stayed.", ["model"]);
    }

    public CollectorRegistry Registry { get; }

    public Histogram Inference { get; }

    private Gauge LoadSeconds { get; }

    private Counter Reloads { get; }

    private Counter FailedReloads { get; }

    public void ModelLoaded(ServedModel model)
    {
        LoadSeconds.WithLabels(model.Name).Set(model.LoadTime.TotalSeconds);
        if (model.Reloads > 0)
        {
            Reloads.WithLabels(model.Name).Inc();
        }
    }

    public void ReloadFailed(ServedModel model) => FailedReloads.WithLabels(model.Name).Inc();
}
