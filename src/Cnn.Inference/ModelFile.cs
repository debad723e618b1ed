using Cnn.Contracts;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>An ONNX file's bytes and its validated model card, read once.</summary>
internal sealed class ModelFile
{
    private readonly Lazy<OnnxGraphStructure> _graph;

    private ModelFile(string source, byte[] bytes, ModelCard card, bool fromFile)
    {
        Source = source;
        Card = card;
        // Another producer's class scores become this project's probabilities output, so every run path reads one name.
        Bytes = card.Output is { } output ? OnnxGraphReader.WithNode(bytes, output.Logits ? "Softmax" : "Identity", output.Name, OnnxNames.Probabilities) : bytes;
        _graph = new Lazy<OnnxGraphStructure>(() => OnnxGraphReader.Read(Bytes, source));
        ExternalDataFolder = OnnxGraph.ExternalDataFolder(Graph, source, fromFile);
    }

    /// <summary>A copy of <paramref name="model"/> with other bytes and card (its features graph): the same file, checked once.</summary>
    private ModelFile(ModelFile model, byte[] bytes, ModelCard card)
    {
        Source = model.Source;
        Card = card;
        Bytes = bytes;
        ExternalDataFolder = model.ExternalDataFolder;
        _graph = new Lazy<OnnxGraphStructure>(() => OnnxGraphReader.Read(Bytes, Source));
    }

    public string Source { get; }

    /// <summary>The graph as sessions run it: the file's bytes, with the probabilities node added for another producer's model.</summary>
    public byte[] Bytes { get; }

    public ModelCard Card { get; }

    /// <summary>The structure of <see cref="Bytes"/>' graph, read once.</summary>
    public OnnxGraphStructure Graph => _graph.Value;

    /// <summary>Where the graph's external data files are (beside the model file); null when it has none.</summary>
    public string? ExternalDataFolder { get; }

    /// <summary>Where the card of a model without one inside sits: <c>MODEL.card.json</c> beside <c>MODEL.onnx</c>.</summary>
    public static string SidecarPathFor(string modelPath) => Path.ChangeExtension(modelPath, ".card.json");

    /// <summary>This model's graph with its card's feature maps as outputs, as a features file would have them.</summary>
    public ModelFile WithFeatureOutputs() =>
        new(this, OnnxGraphReader.WithOutputs(Bytes, Card.Features.Select(f => f.Name)), Card with { HasFeatureOutputs = true });

    /// <summary>
    /// Reads a model file: a regular file (not a FIFO or device) of at most <paramref name="maxBytes"/> bytes, its card
    /// inside it or, for a model of another producer, in <see cref="SidecarPathFor"/> beside it.
    /// </summary>
    public static ModelFile Read(string path, long maxBytes)
    {
        var bytes = RegularFile.ReadAll(
            path, maxBytes, ".onnx file", "model file not found",
            message => new InvalidModelException(message),
            message => new InvalidModelException($"{message} (InferenceOptions.MaxModelBytes)"));
        string sidecar = SidecarPathFor(path);
        return OnnxFileReader.Metadata(bytes, path).TryGetValue(OnnxNames.ModelCardKey, out var json) || !File.Exists(sidecar)
            ? FromCard(bytes, path, json, fromFile: true)
            : new ModelFile(path, bytes, Parse(() => File.ReadAllText(sidecar), sidecar), fromFile: true);
    }

    /// <summary>A model read from a stream: its card must be inside it, and it may not keep weights in external files.</summary>
    public static ModelFile FromBytes(byte[] bytes, string source) =>
        FromCard(bytes, source, OnnxFileReader.Metadata(bytes, source).GetValueOrDefault(OnnxNames.ModelCardKey), fromFile: false);

    private static ModelFile FromCard(byte[] bytes, string source, string? json, bool fromFile) => json == null
        ? throw new InvalidModelException(
            $"{source}: has no model card (metadata '{OnnxNames.ModelCardKey}', or {Path.GetFileName(SidecarPathFor(source))} beside the file); "
            + $"a model of another producer is described once with `cnn describe {source} --labels …`, a model of `cnn export` before 0.2 is exported again")
        : new ModelFile(source, bytes, Parse(() => json, source), fromFile);

    private static ModelCard Parse(Func<string> json, string source)
    {
        try
        {
            return ModelCard.FromJson(json(), source);
        }
        catch (ModelCardException e)
        {
            throw new InvalidModelException(e.Message, e);
        }
        catch (IOException e)
        {
            throw new InvalidModelException($"{source}: the model card cannot be read ({e.Message})", e);
        }
    }

    /// <summary>
    /// The kernels of every feature layer that has a 4-d weight initializer: LAYER.weight in this project's models, the
    /// Conv's weights behind the layer in another producer's (the convs, and the activations right after them).
    /// </summary>
    public IReadOnlyDictionary<string, ConvKernels> ReadKernels()
    {
        var kernels = new Dictionary<string, ConvKernels>(StringComparer.Ordinal);
        // This project names a conv's weights after its module; another producer's are found through the graph.
        var graph = Card.Output != null ? Graph : null;
        foreach (var feature in Card.Features)
        {
            string? weights = graph == null ? $"{feature.Name}.weight" : graph.ConvWeightsOf(feature.Name);
            // An initializer kept in an external data file has no values in the file itself: it offers no kernels.
            if (weights != null && (OnnxFileReader.FloatInitializer(Bytes, weights, Source) ?? Dequantized(weights)) is { Dims.Length: 4 } w && w.Values.Length == w.Dims.Aggregate(1L, (a, d) => a * d))
            {
                kernels[feature.Name] = new ConvKernels(feature.Name, (int)w.Dims[0], (int)w.Dims[1], (int)w.Dims[2], (int)w.Dims[3], w.Values);
            }
        }

        return kernels;
    }

    /// <summary>
    /// An int8 model's weights as the kernels they stand for: WEIGHTS.q (int8) times WEIGHTS.scale (one per output
    /// channel), as `cnn export --int8` writes them; null when the file has no such pair.
    /// </summary>
    private (long[] Dims, float[] Values)? Dequantized(string weights)
    {
        if (Card.Quantization == null || OnnxFileReader.Int8Initializer(Bytes, $"{weights}.q", Source) is not { } q
            || OnnxFileReader.FloatInitializer(Bytes, $"{weights}.scale", Source) is not { Values: var scales } || scales.Length != q.Dims[0])
        {
            return null;
        }

        int per = q.Values.Length / scales.Length;
        return (q.Dims, [.. q.Values.Select((v, i) => v * scales[i / per])]);
    }

    /// <summary>Checks the session's input and outputs against the card, so a card that lies is caught at load.</summary>
    public void CheckAgainst(InferenceSession session)
    {
        var shape = Card.Input.Shape;
        int[] image = Card.Input.Layout == OnnxNames.LayoutNhwc ? [shape.Height, shape.Width, shape.Channels] : [shape.Channels, shape.Height, shape.Width];
        if (!session.InputMetadata.TryGetValue(Card.Input.Name, out var input) || session.InputMetadata.Count != 1
            || input.Dimensions.Length != 4 || !input.Dimensions.Skip(1).SequenceEqual(image))
        {
            throw new InvalidModelException(
                $"{Source}: expected one input '{Card.Input.Name}' of shape [N, {string.Join(", ", image)}] ({Card.Input.Layout}) as its model card says; found {Describe(session.InputMetadata)}");
        }

        if (!session.OutputMetadata.TryGetValue(OnnxNames.Probabilities, out var probabilities) || probabilities.Dimensions[^1] != Card.Labels.Count)
        {
            throw new InvalidModelException(
                $"{Source}: the model card has {Card.Labels.Count} class labels; expected an output '{OnnxNames.Probabilities}' of [N, {Card.Labels.Count}], found {Describe(session.OutputMetadata)}");
        }

        foreach (var feature in Card.HasFeatureOutputs ? Card.Features : [])
        {
            var s = feature.Shape;
            if (!session.OutputMetadata.TryGetValue(feature.Name, out var output) || !output.Dimensions.Skip(1).SequenceEqual([s.Channels, s.Height, s.Width]))
            {
                throw new InvalidModelException(
                    $"{Source}: the model card lists feature map '{feature.Name}' {s}; the graph has {Describe(session.OutputMetadata)}");
            }
        }
    }

    private static string Describe(IReadOnlyDictionary<string, NodeMetadata> values) =>
        string.Join(", ", values.Select(v => $"{v.Key} [{string.Join(", ", v.Value.Dimensions)}]"));
}
