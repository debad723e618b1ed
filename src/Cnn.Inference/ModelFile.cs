using Cnn.Contracts;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>An ONNX file's bytes and its validated model card, read once.</summary>
internal sealed class ModelFile
{
    private ModelFile(string source, byte[] bytes, ModelCard card)
    {
        Source = source;
        Bytes = bytes;
        Card = card;
    }

    public string Source { get; }

    public byte[] Bytes { get; }

    public ModelCard Card { get; }

    /// <summary>Reads a model file: a regular file (not a FIFO or device) of at most <paramref name="maxBytes"/> bytes.</summary>
    public static ModelFile Read(string path, long maxBytes) => FromBytes(RegularFile.ReadAll(
        path, maxBytes, ".onnx file written by `cnn export`", "model file not found",
        message => new InvalidModelException(message),
        message => new InvalidModelException($"{message} (InferenceOptions.MaxModelBytes)")), path);

    public static ModelFile FromBytes(byte[] bytes, string source)
    {
        var metadata = OnnxFileReader.Metadata(bytes, source);
        if (!metadata.TryGetValue(OnnxNames.ModelCardKey, out var json))
        {
            throw new InvalidModelException(
                $"{source}: has no model card (metadata '{OnnxNames.ModelCardKey}'); expected a model written by `cnn export` 0.2 or later (re-export older files)");
        }

        try
        {
            return new ModelFile(source, bytes, ModelCard.FromJson(json, source));
        }
        catch (ModelCardException e)
        {
            throw new InvalidModelException(e.Message, e);
        }
    }

    /// <summary>The kernels of every feature layer that has a 4-d weight initializer named LAYER.weight (the convs).</summary>
    public IReadOnlyDictionary<string, ConvKernels> ReadKernels()
    {
        var kernels = new Dictionary<string, ConvKernels>(StringComparer.Ordinal);
        foreach (var feature in Card.Features)
        {
            if (OnnxFileReader.FloatInitializer(Bytes, $"{feature.Name}.weight", Source) is { Dims.Length: 4 } w)
            {
                kernels[feature.Name] = new ConvKernels(feature.Name, (int)w.Dims[0], (int)w.Dims[1], (int)w.Dims[2], (int)w.Dims[3], w.Values);
            }
        }

        return kernels;
    }

    /// <summary>Checks the session's input and outputs against the card, so a card that lies is caught at load.</summary>
    public void CheckAgainst(InferenceSession session)
    {
        var shape = Card.Input.Shape;
        if (!session.InputMetadata.TryGetValue(OnnxNames.Input, out var input) || session.InputMetadata.Count != 1
            || !input.Dimensions.Skip(1).SequenceEqual([shape.Channels, shape.Height, shape.Width]))
        {
            throw new InvalidModelException(
                $"{Source}: expected one input '{OnnxNames.Input}' of shape [N, {shape.Channels}, {shape.Height}, {shape.Width}] as its model card says; found {Describe(session.InputMetadata)}");
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
