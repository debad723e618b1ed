using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cnn.Inference;

/// <summary>
/// A CNN exported by <c>cnn export</c>, on ONNX Runtime: predictions (one image or a batch in one call) and feature
/// maps by output name. Reads labels, input shape and feature names from the file's metadata. Thread-safe: concurrent
/// calls share the sessions. Owns native ONNX Runtime sessions: dispose it.
/// </summary>
public sealed class CnnModel : IDisposable
{
    public const string InputName = "image";
    public const string LogitsOutput = "logits";
    public const string ProbabilitiesOutput = "probabilities";
    private const string FeaturesSuffix = ".features.onnx";

    private static readonly string[] PredictionOutputs = [ProbabilitiesOutput];
    private static readonly string[] InputNames = [InputName];

    // Run options carry no per-call state here; one instance serves every call and thread.
    private readonly RunOptions _runOptions = new();

    // One single-image input and output per thread, bound to ONNX Runtime once: batch-1 predictions are the latency
    // path, and a native allocation per call was a measurable share of it.
    private readonly ThreadLocal<SingleImageBuffers> _single;
    private readonly InferenceSession _session;
    private readonly Lazy<FeatureOutputSet?> _features;
    private readonly Lazy<FeatureOutputSet?> _ownFeatureOutputs;
    private readonly InferenceOptions _options;
    private readonly string? _featuresPath;
    private readonly bool _ownFeatures;
    private bool _disposed;

    private CnnModel(InferenceSession session, string source, string? featuresPath, InferenceOptions options, string device)
    {
        _session = session;
        _options = options;
        Source = source;
        Device = device;
        var meta = session.ModelMetadata.CustomMetadataMap;
        Labels = ReadJson<string[]>(meta, "class_labels", source);
        ModelName = meta.GetValueOrDefault("model_name", "");
        Dataset = meta.GetValueOrDefault("dataset", "");
        (Channels, Height, Width) = ReadShape(session, source);
        var own = ReadJson<string[]>(meta, "feature_outputs", source);
        _ownFeatures = own.Length > 0;
        _featuresPath = _ownFeatures ? null : featuresPath;
        _features = new Lazy<FeatureOutputSet?>(OpenFeatures, LazyThreadSafetyMode.ExecutionAndPublication);
        _ownFeatureOutputs = new Lazy<FeatureOutputSet?>(() => new FeatureOutputSet(_session), LazyThreadSafetyMode.ExecutionAndPublication);
        _single = new ThreadLocal<SingleImageBuffers>(NewSingleImageBuffers, trackAllValues: true);
        if (meta.TryGetValue("normalization", out var normalization))
        {
            using var doc = JsonDocument.Parse(normalization);
            TrainingMean = doc.RootElement.GetProperty("mean").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        }

        Preprocessing = Channels == 3 ? Preprocessing.Color : Dataset is "digits" or "mnist" ? Preprocessing.Digit : Preprocessing.Gray;
        if (Labels.Count != session.OutputMetadata[ProbabilitiesOutput].Dimensions[^1])
        {
            throw new InvalidModelException($"{source}: {Labels.Count} class labels in the metadata but {session.OutputMetadata[ProbabilitiesOutput].Dimensions[^1]} probabilities");
        }
    }

    /// <summary>Where the model was loaded from.</summary>
    public string Source { get; }

    /// <summary>cpu or cuda: where ONNX Runtime runs it.</summary>
    public string Device { get; }

    public string ModelName { get; }

    public string Dataset { get; }

    public IReadOnlyList<string> Labels { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Floats per image: C × H × W.</summary>
    public int InputLength => Channels * Height * Width;

    /// <summary>How images given as files or bytes are turned into input (from the data set: digits → <see cref="Preprocessing.Digit"/>).</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>Mean intensity per channel of the training images, from the metadata (empty if absent).</summary>
    public IReadOnlyList<double> TrainingMean { get; } = [];

    /// <summary>Names of the feature maps available (conv1, pool1, …), from this file or its .features.onnx sibling; empty if neither has any.</summary>
    public IReadOnlyList<string> FeatureNames => FeatureOutputs?.Names ?? [];

    private FeatureOutputSet? FeatureOutputs => _ownFeatures ? _ownFeatureOutputs.Value : _features.Value;

    /// <summary>Loads FILE.onnx; feature maps come from FILE.features.onnx when it exists (loaded on first use).</summary>
    public static CnnModel Load(string path, InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file not found: {path}", path);
        }

        var (sessionOptions, device) = CreateSessionOptions(options);
        using (sessionOptions)
        {
            var session = Open(() => new InferenceSession(path, sessionOptions), path);
            string features = Path.ChangeExtension(path, null) + FeaturesSuffix;
            return Construct(session, path, File.Exists(features) && !path.EndsWith(FeaturesSuffix, StringComparison.Ordinal) ? features : null, options, device);
        }
    }

    /// <summary>Loads a model from a stream (the whole ONNX file); feature maps only if it is a features model.</summary>
    public static CnnModel Load(Stream stream, string source = "stream", InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        var (sessionOptions, device) = CreateSessionOptions(options);
        using (sessionOptions)
        {
            var session = Open(() => new InferenceSession(bytes, sessionOptions), source);
            return Construct(session, source, null, options, device);
        }
    }

    /// <summary>Predicts one image of <see cref="InputLength"/> floats in [0, 1], [C, H, W] row-major.</summary>
    public Prediction Predict(ReadOnlySpan<float> pixels)
    {
        CheckLength(pixels, 1);
        var buffers = _single.Value!;
        pixels.CopyTo(buffers.Input);
        _session.Run(_runOptions, InputNames, buffers.InputValue, PredictionOutputs, buffers.OutputValue);
        return Prediction.FromProbabilities(buffers.Output, Labels);
    }

    /// <summary>Predicts <paramref name="count"/> images laid one after another, in one ONNX Runtime call.</summary>
    public IReadOnlyList<Prediction> PredictBatch(ReadOnlySpan<float> pixels, int count)
    {
        CheckLength(pixels, count);
        int classes = Labels.Count;
        var probabilities = new float[count * classes];
        using var output = OrtValue.CreateTensorValueFromMemory(probabilities, [count, classes]);
        RunPinned(pixels, count, PredictionOutputs, [output]);
        var predictions = new Prediction[count];
        for (int i = 0; i < count; i++)
        {
            predictions[i] = Prediction.FromProbabilities(probabilities.AsSpan(i * classes, classes), Labels);
        }

        return predictions;
    }

    /// <summary>
    /// Feature maps of one image by name (all of them when <paramref name="names"/> is null), with the prediction, in
    /// new arrays the caller keeps. For repeated calls, <see cref="FillFeatureMaps"/> into one
    /// <see cref="FeatureMapBuffer"/> allocates nothing.
    /// </summary>
    public FeatureMapSet GetFeatureMaps(ReadOnlySpan<float> pixels, IEnumerable<string>? names = null)
    {
        CheckLength(pixels, 1);

        // A buffer used once: its arrays, which ONNX Runtime wrote straight into, are the ones handed back.
        using var buffer = CreateFeatureMapBuffer(names);
        var prediction = FillFeatureMaps(pixels, buffer);
        return new FeatureMapSet(buffer.Maps, prediction);
    }

    /// <summary>
    /// A reusable destination for the feature maps <paramref name="names"/> (all of them when null) of one image, for
    /// <see cref="FillFeatureMaps"/>. Dispose it before or after this model.
    /// </summary>
    public FeatureMapBuffer CreateFeatureMapBuffer(IEnumerable<string>? names = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (features, wanted) = ResolveFeatures(names);
        var maps = wanted.Select(name =>
        {
            var (c, h, w) = features.Shapes[name];
            return new FeatureMap(name, c, h, w, new float[c * h * w]);
        }).ToList();
        return new FeatureMapBuffer(features, Source, maps, NewSingleImageBuffers());
    }

    /// <summary>
    /// Computes one image's feature maps into <paramref name="buffer"/> (overwriting its previous values) and returns
    /// the prediction made in the same run. Nothing is allocated for the maps; the buffer must come from this model's
    /// <see cref="CreateFeatureMapBuffer"/> and serve one call at a time.
    /// </summary>
    public Prediction FillFeatureMaps(ReadOnlySpan<float> pixels, FeatureMapBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        CheckLength(pixels, 1);
        var features = FeatureOutputs;
        if (!ReferenceEquals(buffer.Owner, features))
        {
            throw new ArgumentException(
                $"this FeatureMapBuffer was made by the model loaded from {buffer.Source}, not by this one ({Source}); make it with this model's CreateFeatureMapBuffer",
                nameof(buffer));
        }

        using (buffer.Acquire())
        {
            pixels.CopyTo(buffer.Image.Input);
            features!.Session.Run(_runOptions, InputNames, buffer.Image.InputValue, buffer.OutputNames, buffer.OutputValues);
            return Prediction.FromProbabilities(buffer.Image.Output, Labels);
        }
    }

    /// <summary>Decodes an image file (PNG, JPEG, BMP, WebP) and prepares it as this model's input.</summary>
    public PreparedImage Prepare(string imagePath)
    {
        if (!File.Exists(imagePath))
        {
            throw new FileNotFoundException($"image not found: {imagePath}", imagePath);
        }

        return Prepare(File.ReadAllBytes(imagePath), imagePath);
    }

    /// <summary>Prepares encoded image bytes; <paramref name="source"/> names them in errors.</summary>
    public PreparedImage Prepare(byte[] encoded, string source = "image")
    {
        using var bitmap = ImagePreprocessor.Decode(encoded, source, _options.MaxImagePixels);
        return ImagePreprocessor.Prepare(bitmap, source, Preprocessing, Channels, Height, Width, TrainingMean.Count > 0 ? TrainingMean[0] : null);
    }

    /// <summary>Prepares an image read from <paramref name="stream"/>.</summary>
    public PreparedImage Prepare(Stream stream, string source = "stream")
    {
        using var bitmap = ImagePreprocessor.Decode(stream, source, _options.MaxImagePixels);
        return ImagePreprocessor.Prepare(bitmap, source, Preprocessing, Channels, Height, Width, TrainingMean.Count > 0 ? TrainingMean[0] : null);
    }

    /// <summary>Prepares and predicts an image file.</summary>
    public Prediction PredictImage(string imagePath) => Predict(Prepare(imagePath).Pixels);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_features.IsValueCreated)
        {
            _features.Value?.Session.Dispose();
        }

        foreach (var buffers in _single.Values)
        {
            buffers.Dispose();
        }

        _single.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static CnnModel Construct(InferenceSession session, string source, string? featuresPath, InferenceOptions options, string device)
    {
        try
        {
            return new CnnModel(session, source, featuresPath, options, device);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private FeatureOutputSet? OpenFeatures()
    {
        if (_featuresPath == null)
        {
            return null;
        }

        var (options, _) = CreateSessionOptions(_options with { Warning = _ => { } });
        using (options)
        {
            return new FeatureOutputSet(Open(() => new InferenceSession(_featuresPath, options), _featuresPath));
        }
    }

    /// <summary>A session with feature outputs and their [C, H, W] shapes, read once.</summary>
    private sealed class FeatureOutputSet
    {
        public FeatureOutputSet(InferenceSession session)
        {
            Session = session;
            Shapes = session.OutputMetadata
                .Where(o => o.Key is not (LogitsOutput or ProbabilitiesOutput) && o.Value.Dimensions.Length == 4)
                .ToDictionary(o => o.Key, o => (o.Value.Dimensions[1], o.Value.Dimensions[2], o.Value.Dimensions[3]));
            Names = [.. Shapes.Keys];
        }

        public InferenceSession Session { get; }

        public IReadOnlyDictionary<string, (int C, int H, int W)> Shapes { get; }

        public IReadOnlyList<string> Names { get; }
    }

    private static (SessionOptions Options, string Device) CreateSessionOptions(InferenceOptions options)
    {
        var session = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0)
        {
            session.IntraOpNumThreads = options.IntraOpThreads;
        }

#if ORT_GPU
        bool tryCuda = options.Device != ExecutionDevice.Cpu;
#else
        bool tryCuda = options.Device == ExecutionDevice.Cuda;
#endif
        if (!tryCuda)
        {
            return (session, "cpu");
        }

        try
        {
            session.AppendExecutionProvider_CUDA(0);
            return (session, "cuda");
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var warn = options.Warning ?? (message => Trace.TraceWarning(message));
            warn($"CUDA execution provider unavailable ({e.Message.Split('\n')[0]}); running on CPU");
            return (session, "cpu");
        }
    }

    private static InferenceSession Open(Func<InferenceSession> open, string source)
    {
        try
        {
            return open();
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidModelException($"{source}: ONNX Runtime cannot load it: {e.Message}", e);
        }
    }

    private static T ReadJson<T>(IReadOnlyDictionary<string, string> meta, string key, string source)
    {
        if (!meta.TryGetValue(key, out var text))
        {
            throw new InvalidModelException($"{source}: metadata '{key}' is missing; expected a model written by `cnn export`");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text) ?? throw new InvalidModelException($"{source}: metadata '{key}' is null");
        }
        catch (JsonException e)
        {
            throw new InvalidModelException($"{source}: metadata '{key}' is not valid JSON ({e.Message})", e);
        }
    }

    private static (int C, int H, int W) ReadShape(InferenceSession session, string source)
    {
        if (!session.InputMetadata.TryGetValue(InputName, out var input) || input.Dimensions.Length != 4)
        {
            throw new InvalidModelException($"{source}: expected one input '{InputName}' of shape [N, C, H, W]; found {string.Join(", ", session.InputMetadata.Select(i => $"{i.Key} [{string.Join(", ", i.Value.Dimensions)}]"))}");
        }

        if (!session.OutputMetadata.ContainsKey(ProbabilitiesOutput))
        {
            throw new InvalidModelException($"{source}: no '{ProbabilitiesOutput}' output; found {string.Join(", ", session.OutputMetadata.Keys)}");
        }

        return (input.Dimensions[1], input.Dimensions[2], input.Dimensions[3]);
    }

    private void CheckLength(ReadOnlySpan<float> pixels, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count < 1)
        {
            throw new InputShapeException($"batch of {count} images; expected at least 1");
        }

        if (pixels.Length != count * InputLength)
        {
            throw new InputShapeException(
                $"{pixels.Length:N0} floats for {count} image(s); expected {count} × {Channels}×{Height}×{Width} = {count * InputLength:N0} ([N, C, H, W] of {Source})");
        }
    }

    private SingleImageBuffers NewSingleImageBuffers() => new(InputLength, Labels.Count, [1, Channels, Height, Width]);

    private (FeatureOutputSet Features, List<string> Wanted) ResolveFeatures(IEnumerable<string>? names)
    {
        var features = FeatureOutputs ?? throw new UnknownOutputException(
            $"{Source}: has no feature-map outputs and no {Path.GetFileName(Path.ChangeExtension(Source, null) + FeaturesSuffix)} beside it; export with `cnn export` to get both files");
        var wanted = names?.ToList() ?? [.. features.Names];
        foreach (var name in wanted.Where(n => !features.Shapes.ContainsKey(n)))
        {
            throw new UnknownOutputException($"{Source}: no feature map named '{name}'; available: {string.Join(", ", features.Names)}");
        }

        return (features, wanted);
    }

    private unsafe void RunPinned(ReadOnlySpan<float> pixels, int count, string[] outputNames, OrtValue[] outputs)
    {
        // ONNX Runtime only reads its inputs, so the caller's pixels are pinned for the call and used in place: a batch
        // of 64 digits is 200 KB that would otherwise be allocated and copied on every call.
        fixed (float* data = pixels)
        {
            using var input = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, Channels, Height, Width], (IntPtr)data, pixels.Length * sizeof(float));
            _session.Run(_runOptions, InputNames, [input], outputNames, outputs);
        }
    }
}
