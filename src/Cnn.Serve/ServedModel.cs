using Cnn.Contracts;
using Cnn.Inference;
using Microsoft.Extensions.Logging;

namespace Cnn.Serve;

/// <summary>
/// One served model: its name (the file stem), its file, and the <see cref="CnnModel"/> answering requests now. A
/// reload loads and warms the new file first and only then swaps it in; a request that picked the old model finishes
/// on it (CnnModel.Dispose waits for calls in flight) or, if it had not started yet, runs on the new one.
/// </summary>
internal sealed class ServedModel : IDisposable
{
    private readonly InferenceOptions _options;
    private readonly ILogger _log;
    private readonly Lock _reloading = new();
    private CnnModel _current;

    private ServedModel(string path, CnnModel model, TimeSpan loadTime, InferenceOptions options, ILogger log)
    {
        Path = System.IO.Path.GetFullPath(path);
        Name = NameOf(path);
        _current = model;
        LoadTime = loadTime;
        _options = options;
        _log = log;
    }

    public string Name { get; }

    public string Path { get; }

    public CnnModel Current => Volatile.Read(ref _current);

    /// <summary>The threshold below which this model's predictions are marked unsure (the server's, else the card's).</summary>
    public double MinProbability => Current.MinProbability;

    /// <summary>How long the last successful load and warm-up took.</summary>
    public TimeSpan LoadTime { get; private set; }

    /// <summary>How many times a changed file was swapped in.</summary>
    public int Reloads { get; private set; }

    public static string NameOf(string path) => System.IO.Path.GetFileNameWithoutExtension(path);

    /// <summary>Loads and warms a model; its errors are the caller's (a server does not start on a broken file).</summary>
    public static ServedModel Load(string path, InferenceOptions options, ILogger log)
    {
        var (model, time) = LoadWarm(path, options);
        return new ServedModel(path, model, time, options, log);
    }

    /// <summary>
    /// Runs <paramref name="call"/> on the current model; if a reload disposed that model before the call entered it,
    /// runs it again on the new one.
    /// </summary>
    public T Use<T>(Func<CnnModel, T> call)
    {
        var model = Current;
        try
        {
            return call(model);
        }
        catch (ObjectDisposedException) when (!ReferenceEquals(model, Current))
        {
            return call(Current);
        }
    }

    /// <summary>
    /// Loads the file again; on success swaps it in and disposes the old model, else keeps serving the old one. It runs
    /// on a timer thread, where an exception would end the process, so every failure — a file that is no model, a FIFO
    /// or a device in its place, a graph that loads but cannot run its warm-up, ONNX Runtime's own errors — is caught,
    /// logged with its reason and reported as false (counted by the caller).
    /// </summary>
    public bool Reload()
    {
        lock (_reloading)
        {
            try
            {
                var (model, time) = LoadWarm(Path, _options);
                var old = Interlocked.Exchange(ref _current, model);
                LoadTime = time;
                Reloads++;
                old.Dispose();
                _log.LogInformation("reloaded {Model} from {Path} in {Ms:F0} ms", Name, Path, time.TotalMilliseconds);
                return true;
            }
            catch (Exception e)
            {
                // The reason alone for the errors a changed file can cause; anything else with its type, no stack trace:
                // the log line says what to fix, and the old model keeps answering.
                string reason = e is InferenceException or IOException or UnauthorizedAccessException ? e.Message : $"{e.GetType().Name}: {e.Message}";
                _log.LogWarning("kept serving the previous {Model}: the new {Path} cannot be used: {Reason}", Name, Path, reason);
                return false;
            }
        }
    }

    public void Dispose() => Current.Dispose();

    /// <summary>A model loaded and run once on a blank image (and its feature maps, when it has any), so the first request pays no set-up.</summary>
    private static (CnnModel Model, TimeSpan Time) LoadWarm(string path, InferenceOptions options)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var model = CnnModel.Load(path, options);
        try
        {
            var blank = new float[model.InputLength];
            model.Predict(blank);
            if (model.FeatureNames.Count > 0)
            {
                model.GetFeatureMaps(blank);
            }

            return (model, System.Diagnostics.Stopwatch.GetElapsedTime(start));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
