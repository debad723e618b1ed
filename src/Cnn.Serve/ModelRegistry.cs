using Cnn.Contracts;
using Cnn.Inference;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cnn.Serve;

/// <summary>
/// The served models by name. Loads and warms every model when the host starts (a file that cannot be served stops
/// the start with its reason), then watches the files: a model whose .onnx or .features.onnx is replaced is reloaded
/// once the writes have settled.
/// </summary>
internal sealed class ModelRegistry(ServeOptions options, ServeMetrics metrics, ILogger<ModelRegistry> log) : IHostedLifecycleService, IDisposable
{
    private readonly Dictionary<string, ServedModel> _models = new(StringComparer.Ordinal);
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Dictionary<string, Timer> _pending = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private volatile bool _ready;

    /// <summary>True once every model is loaded and warm.</summary>
    public bool Ready => _ready;

    /// <summary>True from SIGTERM (or Ctrl-C) on: not ready because the server is draining, not because it is loading.</summary>
    public bool Stopping { get; private set; }

    public IReadOnlyCollection<ServedModel> Models => _models.Values;

    public ServedModel? Find(string name) => _models.GetValueOrDefault(name);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var inference = new InferenceOptions
        {
            IntraOpThreads = options.IntraOpThreads,
            MaxImagePixels = options.MaxImagePixels,
            MaxModelBytes = options.MaxModelBytes,
            MinProbability = options.MinProbability,
            Warning = message => log.LogWarning("{Message}", message),
        };
        foreach (var path in options.ModelPaths)
        {
            var served = ServedModel.Load(path, inference, log);
            _models[served.Name] = served;
            metrics.ModelLoaded(served);
            log.LogInformation("loaded {Model} from {Path} ({Device}) in {Ms:F0} ms", served.Name, served.Path, served.Current.Device, served.LoadTime.TotalMilliseconds);
        }

        Watch();
        _ready = true;
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before the host stops any service, Kestrel included: not ready from now on, and a short drain while the
    /// server still answers what clients have already sent.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Stopping = true;
        _ready = false;
        log.LogInformation("stopping: /readyz answers 503; draining for {Ms:F0} ms", options.DrainDelay.TotalMilliseconds);
        await Task.Delay(options.DrainDelay, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _ready = false;
        StopWatching();
        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        StopWatching();
        foreach (var model in _models.Values)
        {
            model.Dispose();
        }
    }

    private void Watch()
    {
        foreach (var folder in _models.Values.GroupBy(m => System.IO.Path.GetDirectoryName(m.Path)!))
        {
            var watcher = new FileSystemWatcher(folder.Key, "*.onnx") { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
            watcher.Changed += (_, e) => Changed(e.FullPath);
            watcher.Created += (_, e) => Changed(e.FullPath);
            watcher.Renamed += (_, e) => Changed(e.FullPath);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    /// <summary>Schedules a reload of the model the file belongs to, after the writes have been quiet for a moment.</summary>
    private void Changed(string path)
    {
        string file = System.IO.Path.GetFileName(path);
        string stem = OnnxNames.IsFeaturesPath(file) ? file[..^OnnxNames.FeaturesSuffix.Length] : System.IO.Path.GetFileNameWithoutExtension(file);
        var model = _models.Values.FirstOrDefault(m => m.Name == stem && System.IO.Path.GetDirectoryName(m.Path) == System.IO.Path.GetDirectoryName(path));
        if (model == null)
        {
            return;
        }

        lock (_gate)
        {
            if (_pending.TryGetValue(model.Name, out var timer))
            {
                timer.Change(options.ReloadDelay, Timeout.InfiniteTimeSpan);
                return;
            }

            _pending[model.Name] = new Timer(_ => Reload(model), null, options.ReloadDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Reload(ServedModel model)
    {
        lock (_gate)
        {
            if (_pending.Remove(model.Name, out var timer))
            {
                timer.Dispose();
            }
        }

        bool reloaded;
        try
        {
            reloaded = model.Reload();
        }
        catch (Exception e)
        {
            // Reload catches its own failures; this is the timer thread's last guard, where an escape ends the process.
            log.LogError("reload of {Model} failed outside its own checks: {Type}: {Reason}", model.Name, e.GetType().Name, e.Message);
            reloaded = false;
        }

        if (reloaded)
        {
            metrics.ModelLoaded(model);
        }
        else
        {
            metrics.ReloadFailed(model);
        }
    }

    private void StopWatching()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _watchers.Clear();
        lock (_gate)
        {
            foreach (var timer in _pending.Values)
            {
                timer.Dispose();
            }

            _pending.Clear();
        }
    }
}
