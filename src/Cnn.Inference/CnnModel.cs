using Cnn.Contracts;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cnn.Inference;

/// <summary>
/// A CNN exported by <c>cnn export</c>, on ONNX Runtime: predictions (one image, or a batch in one call) and feature
/// maps by name; <see cref="Images"/> turns image files into its input as the model card prescribes. Thread-safe: concurrent calls share the
/// sessions. Owns native ONNX Runtime sessions: dispose it; calls in flight finish first, later calls throw
/// <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class CnnModel : IDisposable
{
    private static readonly string[] PredictionOutputs = [OnnxNames.Probabilities];

    // Run options carry no per-call state here; one instance serves every call and thread.
    private readonly RunOptions _runOptions = new() { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
    private readonly InferenceSession _session;
    private readonly InferenceOptions _options;
    private readonly Lazy<FeatureOutputs?> _features;
    private readonly CallGate _gate;

    // Batch-1 predictions are the latency path, and a native allocation per call was a measurable share of it: their
    // input and output arrays are bound to ONNX Runtime once and reused, a bounded number of them.
    private readonly BufferPool<SingleImageBuffers> _single;

    private readonly IReadOnlyDictionary<string, ConvKernels> _kernels;

    // Any tensor by name: sessions over in-memory copies of the graph with those tensors as outputs, made on first use.
    private readonly TensorTaps _taps;

    // The graph's input name, and how the caller's pixels become its input (null for this project's models).
    private readonly string[] _inputNames;
    private readonly InputAdapter? _adapter;

    // A graph whose batch is fixed at 1 (another producer's export) runs a batch one image at a time.
    private readonly bool _fixedBatch;

    private CnnModel(ModelFile file, InferenceSession session, ExecutionDevice device, ModelFile? sibling, InferenceOptions options)
    {
        _kernels = file.ReadKernels();
        _session = session;
        _inputNames = [file.Card.Input.Name];
        _adapter = InputAdapter.For(file.Card);
        _fixedBatch = session.InputMetadata[file.Card.Input.Name].Dimensions[0] == 1;
        _options = options;
        _gate = new CallGate(this);
        Card = file.Card;
        Source = file.Source;
        Device = device;
        _single = new BufferPool<SingleImageBuffers>(NewSingleImageBuffers, 2 * Environment.ProcessorCount);
        var featuresFile = sibling ?? Tapped(file);
        _features = new Lazy<FeatureOutputs?>(
            () => file.Card.HasFeatureOutputs ? new FeatureOutputs(_session, Card, ownsSession: false) : OpenSibling(featuresFile),
            LazyThreadSafetyMode.ExecutionAndPublication);
        FeatureNames = file.Card.HasFeatureOutputs || featuresFile != null ? [.. Card.Features.Select(f => f.Name)] : [];
        Images = new ImagePreprocessor(Card, options.MaxImagePixels);
        _taps = new TensorTaps(file.Bytes, file.Graph, file.Source, options, file.ExternalDataFolder);
    }

    /// <summary>Where the model was loaded from.</summary>
    public string Source { get; }

    /// <summary>Where ONNX Runtime runs it: <see cref="ExecutionDevice.Cpu"/> or <see cref="ExecutionDevice.Cuda"/>, never Auto.</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Everything the file says about itself: labels, input, normalisation, preprocessing, feature maps, provenance.</summary>
    public ModelCard Card { get; }

    /// <summary>Decoding and preprocessing of image files into this model's input, as its card prescribes.</summary>
    public ImagePreprocessor Images { get; }

    /// <summary>Class names in output order (the card's <see cref="ModelCard.Labels"/>).</summary>
    public IReadOnlyList<string> Labels => Card.Labels;

    /// <summary>Floats per image: C × H × W.</summary>
    public int InputLength => Card.Input.Shape.Length;

    /// <summary>Names of the feature maps available (conv1, pool1, …), from this file or its .features.onnx sibling; empty if neither has any.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Loads FILE.onnx with default options; see <see cref="Load(string, InferenceOptions)"/>.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <returns>The loaded model.</returns>
    public static CnnModel Load(string path) => Load(path, new InferenceOptions());

    /// <summary>Loads FILE.onnx; feature maps come from FILE.features.onnx when it exists beside it (opened on first use).</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Loading and image options.</param>
    /// <returns>The loaded model.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidModelException">The file, its card, or its features sibling is not usable.</exception>
    public static CnnModel Load(string path, InferenceOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options = options.Validated();
        var file = ModelFile.Read(path, options.MaxModelBytes);
        string siblingPath = OnnxNames.FeaturesPathFor(path);
        var sibling = !file.Card.HasFeatureOutputs && File.Exists(siblingPath) ? ReadSibling(file, siblingPath, options.MaxModelBytes) : null;
        return Open(file, sibling, options);
    }

    /// <summary>Loads a model from a stream with default options; see <see cref="Load(Stream, string, InferenceOptions)"/>.</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="source">Names the model in messages.</param>
    /// <returns>The loaded model.</returns>
    public static CnnModel Load(Stream stream, string source) => Load(stream, source, new InferenceOptions());

    /// <summary>Loads a model from a stream holding the whole ONNX file; feature maps only if it is a features file.</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="source">Names the model in messages.</param>
    /// <param name="options">Loading and image options.</param>
    /// <returns>The loaded model.</returns>
    /// <exception cref="InvalidModelException">The bytes or their card are not usable.</exception>
    public static CnnModel Load(Stream stream, string source, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        options = options.Validated();
        var bytes = BoundedStream.ReadAll(stream, options.MaxModelBytes, () => new InvalidModelException(
            $"{source}: the stream holds over {options.MaxModelBytes:N0} bytes; the limit is {options.MaxModelBytes:N0} (InferenceOptions.MaxModelBytes)"));
        return Open(ModelFile.FromBytes(bytes, source), null, options);
    }

    /// <summary>Predicts one image of <see cref="InputLength"/> floats in [0, 1], [C, H, W] row-major.</summary>
    /// <param name="pixels">The image, e.g. <see cref="PreparedImage.Pixels"/>.</param>
    /// <returns>The most probable class and every class's probability.</returns>
    /// <exception cref="InputShapeException">The span is not one image long.</exception>
    public Prediction Predict(ReadOnlySpan<float> pixels)
    {
        using var call = _gate.Enter();
        CheckLength(pixels, 1);
        var buffers = _single.Rent();
        try
        {
            Feed(pixels, buffers.Input);
            try
            {
                _session.Run(_runOptions, _inputNames, buffers.InputValue, PredictionOutputs, buffers.OutputValue);
            }
            catch (OnnxRuntimeException e)
            {
                throw RunFailed(e);
            }

            return Prediction.FromProbabilities(buffers.Output, Labels, MinProbability);
        }
        finally
        {
            _single.Return(buffers);
        }
    }

    /// <summary>Predicts <paramref name="count"/> images laid one after another, in one ONNX Runtime call.</summary>
    /// <param name="pixels">count × C × H × W floats in [0, 1].</param>
    /// <param name="count">How many images.</param>
    /// <returns>One prediction per image, in order.</returns>
    /// <exception cref="InputShapeException">The span does not hold <paramref name="count"/> images.</exception>
    public IReadOnlyList<Prediction> PredictBatch(ReadOnlySpan<float> pixels, int count)
    {
        using var call = _gate.Enter();
        CheckLength(pixels, count);
        if (_fixedBatch)
        {
            var each = new Prediction[count];
            for (int i = 0; i < count; i++)
            {
                each[i] = Predict(pixels.Slice(i * InputLength, InputLength));
            }

            return each;
        }

        int classes = Labels.Count;
        var probabilities = new float[count * classes];
        using var output = OrtValue.CreateTensorValueFromMemory(probabilities, [count, classes]);
        RunPinned(pixels, count, output);
        var predictions = new Prediction[count];
        for (int i = 0; i < count; i++)
        {
            predictions[i] = Prediction.FromProbabilities(probabilities.AsSpan(i * classes, classes), Labels, MinProbability);
        }

        return predictions;
    }

    /// <summary>
    /// Feature maps of one image by name (all of them when <paramref name="names"/> is null), with the prediction, in
    /// new arrays the caller keeps. For repeated calls, <see cref="FillFeatureMaps"/> into one
    /// <see cref="FeatureMapBuffer"/> allocates nothing.
    /// </summary>
    /// <param name="pixels">One image.</param>
    /// <param name="names">Feature maps to compute, in the order wanted; null for all.</param>
    /// <returns>The maps by name and the prediction of the same run.</returns>
    /// <exception cref="UnknownOutputException">A name is not a feature map of this model, or is repeated, or the model has none.</exception>
    public FeatureMapSet GetFeatureMaps(ReadOnlySpan<float> pixels, IEnumerable<string>? names = null)
    {
        // A buffer used once: its arrays, which ONNX Runtime wrote straight into, are the ones handed back.
        using var buffer = CreateFeatureMapBuffer(names);
        var prediction = FillFeatureMaps(pixels, buffer);
        return new FeatureMapSet(buffer.Maps, prediction);
    }

    /// <summary>
    /// A reusable destination for the feature maps <paramref name="names"/> (all of them when null) of one image, for
    /// <see cref="FillFeatureMaps"/>. Dispose it before or after this model.
    /// </summary>
    /// <param name="names">Feature maps the buffer receives, in order; null for all.</param>
    /// <returns>A buffer owning native ONNX Runtime values.</returns>
    /// <exception cref="UnknownOutputException">A name is not a feature map of this model, or is repeated, or the model has none.</exception>
    public FeatureMapBuffer CreateFeatureMapBuffer(IEnumerable<string>? names = null)
    {
        using var call = _gate.Enter();
        var features = Features();
        var maps = features.Resolve(names, Source).Select(name =>
        {
            var shape = features.Shapes[name];
            return new FeatureMap(name, shape.Channels, shape.Height, shape.Width, new float[shape.Length]);
        }).ToList();
        return new FeatureMapBuffer(features, Source, maps, NewSingleImageBuffers());
    }

    /// <summary>
    /// Computes one image's feature maps into <paramref name="buffer"/> (overwriting its previous values) and returns
    /// the prediction made in the same run. Nothing is allocated for the maps; the buffer must come from this model's
    /// <see cref="CreateFeatureMapBuffer"/> and serve one call at a time.
    /// </summary>
    /// <param name="pixels">One image.</param>
    /// <param name="buffer">A buffer made by this model.</param>
    /// <returns>The prediction of the same run.</returns>
    /// <exception cref="ArgumentException">The buffer was made by another model.</exception>
    /// <exception cref="InvalidOperationException">Another call is filling the same buffer.</exception>
    public Prediction FillFeatureMaps(ReadOnlySpan<float> pixels, FeatureMapBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        using var call = _gate.Enter();
        CheckLength(pixels, 1);
        var features = Features();
        if (!ReferenceEquals(buffer.Owner, features))
        {
            throw new ArgumentException(
                $"this FeatureMapBuffer was made by the model loaded from {buffer.Source}, not by this one ({Source}); make it with this model's CreateFeatureMapBuffer",
                nameof(buffer));
        }

        using (buffer.Acquire())
        {
            Feed(pixels, buffer.Image.Input);
            try
            {
                features.Session.Run(_runOptions, _inputNames, buffer.Image.InputValue, buffer.OutputNames, buffer.OutputValues);
            }
            catch (OnnxRuntimeException e)
            {
                throw RunFailed(e);
            }

            return Prediction.FromProbabilities(buffer.Image.Output, Labels, MinProbability);
        }
    }

    /// <summary>
    /// Any tensors of the graph by name, for one image: a layer's output, an activation, the normalised input, the
    /// logits — whatever a node writes (<see cref="OnnxGraph.Inspect"/> lists them, as does <c>cnn inspect</c>). The
    /// names become outputs of an in-memory copy of the graph, whose session is kept for the next call with the same
    /// names (a few sets of names are kept; others get a session for their call alone).
    /// </summary>
    /// <param name="pixels">One image.</param>
    /// <param name="names">Tensor names, each once.</param>
    /// <returns>Each tensor's shape and values, by name.</returns>
    /// <exception cref="UnknownOutputException">A name the graph does not compute (the closest real names are listed), a name given twice, or a tensor that does not hold floats.</exception>
    public IReadOnlyDictionary<string, NamedTensor> GetTensors(ReadOnlySpan<float> pixels, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        using var call = _gate.Enter();
        CheckLength(pixels, 1);
        var input = new float[InputLength];
        Feed(pixels, input);
        return _taps.Run(input, InputAdapter.Shape(Card, 1), [.. names], _runOptions);
    }

    /// <summary>
    /// The kernels of a conv feature layer (<c>conv1</c>: [out, in, kH, kW]), read from the model's weights: what each
    /// of the layer's maps responds to.
    /// </summary>
    /// <param name="layer">A feature layer that is a convolution.</param>
    /// <returns>The layer's kernels.</returns>
    /// <exception cref="UnknownOutputException">No conv layer of that name.</exception>
    public ConvKernels GetKernels(string layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return _kernels.TryGetValue(layer, out var kernels)
            ? kernels
            : throw new UnknownOutputException($"{Source}: no conv layer named '{layer}' has kernels; layers with kernels: {string.Join(", ", _kernels.Keys)}");
    }

    /// <summary>Whether <see cref="GetKernels"/> has kernels for <paramref name="layer"/> (its convs do, pools do not).</summary>
    /// <param name="layer">A feature layer's name.</param>
    /// <returns>True for a conv layer of this model.</returns>
    public bool HasKernels(string layer) => _kernels.ContainsKey(layer);

    /// <summary>Decodes, prepares and predicts an image file.</summary>
    /// <param name="imagePath">The file.</param>
    /// <returns>The prediction.</returns>
    public Prediction PredictImage(string imagePath) => Predict(Images.Prepare(imagePath).Pixels);

    /// <summary>Single-image buffers kept for reuse (for tests of the pool's bound).</summary>
    internal int IdleBuffers => _single.IdleCount;

    /// <summary>
    /// The probability below which a prediction is marked <see cref="Prediction.IsUnsure"/>: the options'
    /// <see cref="InferenceOptions.MinProbability"/> when set, else the card's <see cref="ModelCard.UnsureBelow"/>, else
    /// <see cref="InferenceOptions.DefaultMinProbability"/>.
    /// </summary>
    public double MinProbability => _options.MinProbability ?? Card.UnsureBelow ?? InferenceOptions.DefaultMinProbability;

    /// <summary>Waits for calls in flight, then releases the ONNX Runtime sessions and buffers.</summary>
    public void Dispose()
    {
        if (!_gate.Close())
        {
            return;
        }

        if (_features.IsValueCreated)
        {
            _features.Value?.Dispose();
        }

        _taps.Dispose();
        _single.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static CnnModel Open(ModelFile file, ModelFile? sibling, InferenceOptions options)
    {
        var (session, device) = SessionFactory.Open(file.Bytes, file.Source, options, externalData: file.ExternalDataFolder);
        try
        {
            file.CheckAgainst(session);
            return new CnnModel(file, session, device, sibling, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static ModelFile ReadSibling(ModelFile model, string path, long maxBytes)
    {
        var sibling = ModelFile.Read(path, maxBytes);
        // Name what differs: the weights, the labels, or a file with no feature outputs at all.
        string? mismatch = !sibling.Card.HasFeatureOutputs ? "it has no feature outputs (its card says has_feature_outputs: false)"
            : !sibling.Card.SharesWeightsWith(model.Card) ? $"its weights (sha256 {sibling.Card.WeightsSha256[..12]}…) are not the model's ({model.Card.WeightsSha256[..12]}…)"
            : !sibling.Card.Labels.SequenceEqual(model.Card.Labels) ? $"its labels ({string.Join(", ", sibling.Card.Labels)}) are not the model's ({string.Join(", ", model.Card.Labels)})"
            : null;
        if (mismatch != null)
        {
            throw new InvalidModelException($"{path} does not belong to {model.Source}: {mismatch}; export both files again with `cnn export`, or remove the features file");
        }

        return sibling;
    }

    /// <summary>
    /// For another producer's model whose card names feature maps (tensors of its graph): the graph with those tensors
    /// as outputs, which serves as its features file.
    /// </summary>
    private static ModelFile? Tapped(ModelFile file) => file.Card.Output != null && file.Card.Features.Count > 0
        ? file.WithFeatureOutputs()
        : null;

    private FeatureOutputs? OpenSibling(ModelFile? sibling)
    {
        if (sibling == null)
        {
            return null;
        }

        var (session, _) = SessionFactory.Open(sibling.Bytes, sibling.Source, _options, warn: false, externalData: sibling.ExternalDataFolder);
        try
        {
            sibling.CheckAgainst(session);
            return new FeatureOutputs(session, sibling.Card, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private FeatureOutputs Features() => _features.Value ?? throw new UnknownOutputException(
        $"{Source}: has no feature-map outputs and no {Path.GetFileName(OnnxNames.FeaturesPathFor(Source))} beside it; export with `cnn export` to get both files");

    private void CheckLength(ReadOnlySpan<float> pixels, int count)
    {
        if (count < 1)
        {
            throw new InputShapeException($"batch of {count} images; expected at least 1");
        }

        var s = Card.Input.Shape;
        long expected = (long)count * InputLength;
        if (pixels.Length != expected)
        {
            throw new InputShapeException(
                $"{pixels.Length:N0} floats for {count:N0} image(s); expected {count:N0} × {s.Channels}×{s.Height}×{s.Width} = {expected:N0} ([N, C, H, W] of {Source})");
        }
    }

    private SingleImageBuffers NewSingleImageBuffers() => new(InputLength, Labels.Count, InputAdapter.Shape(Card, 1));

    /// <summary>The caller's pixels into a buffer bound to the graph's input, adapted when the graph takes them otherwise.</summary>
    private void Feed(ReadOnlySpan<float> pixels, Span<float> input)
    {
        if (_adapter == null)
        {
            pixels.CopyTo(input);
        }
        else
        {
            _adapter.Apply(pixels, input);
        }
    }

    private unsafe void RunPinned(ReadOnlySpan<float> pixels, int count, OrtValue output)
    {
        // ONNX Runtime only reads its inputs, so the caller's pixels are pinned for the call and used in place: a batch
        // of 64 digits is 200 KB that would otherwise be allocated and copied on every call (a graph that takes them
        // otherwise gets an adapted copy).
        if (_adapter != null)
        {
            var adapted = new float[pixels.Length];
            _adapter.Apply(pixels, adapted);
            pixels = adapted;
        }

        fixed (float* data = pixels)
        {
            using var input = OrtValue.CreateTensorValueWithData(
                OrtMemoryInfo.DefaultInstance, TensorElementType.Float, InputAdapter.Shape(Card, count), (IntPtr)data, pixels.Length * sizeof(float));
            try
            {
                _session.Run(_runOptions, _inputNames, [input], PredictionOutputs, [output]);
            }
            catch (OnnxRuntimeException e)
            {
                throw RunFailed(e);
            }
        }
    }

    /// <summary>
    /// ONNX Runtime's failure to run a graph as a <see cref="ModelRunException"/> that names the model and the failing
    /// node in one line (ONNX Runtime's own message carries its source file and the whole status).
    /// </summary>
    private ModelRunException RunFailed(OnnxRuntimeException e) =>
        new($"{Source}: ONNX Runtime could not run the graph: {RunFailure(e.Message)}", e);

    /// <summary>
    /// ONNX Runtime's status as one line: "node 'NAME' (OP) failed: WHY", without its error code, source file and
    /// failed condition ("[ErrorCode:RuntimeException] Non-zero status code returned while running Reshape node.
    /// Name:'x' Status Message: /onnxruntime_src/…/reshape_helper.h:84 …(…) size != 0 … was false. The input …").
    /// </summary>
    internal static string RunFailure(string message)
    {
        string line = System.Text.RegularExpressions.Regex.Replace(message.ReplaceLineEndings(" ").Trim(), @"^\[ErrorCode:[A-Za-z]+\]\s*", "");
        var node = System.Text.RegularExpressions.Regex.Match(line, @"running (\w+) node\. Name:'([^']*)' Status Message: (.*)$");
        if (!node.Success)
        {
            return line;
        }

        string why = System.Text.RegularExpressions.Regex.Replace(node.Groups[3].Value, @"^\S+:\d+ .*? was false\.\s*", "");
        return $"node '{node.Groups[2].Value}' ({node.Groups[1].Value}) failed: {why}";
    }
}
