using Cnn.Export.Onnx;
using Google.Protobuf;

namespace Cnn.Tests;

/// <summary>
/// ONNX files read and edited through ONNX's own schema (src/Cnn.Export/Proto/onnx.proto, compiled here by protoc, the
/// same file the exporter compiles): the tests' reference for what a file holds, and the way they make files whose
/// card is missing, tampered with or from a future version.
/// </summary>
public static class OnnxMetadata
{
    /// <summary>The metadata_props key of the model card, as the format defines it (docs: model card).</summary>
    public const string CardKey = "cnn.model_card";

    /// <summary>The file with its metadata replaced by <paramref name="metadata"/>; everything else as it was.</summary>
    public static byte[] Replace(byte[] model, IReadOnlyDictionary<string, string> metadata)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        proto.MetadataProps.Clear();
        proto.MetadataProps.Add(metadata.Select(p => new StringStringEntryProto { Key = p.Key, Value = p.Value }));
        return proto.ToByteArray();
    }

    /// <summary>The file's metadata_props.</summary>
    public static IReadOnlyDictionary<string, string> Read(byte[] model) =>
        ModelProto.Parser.ParseFrom(model).MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>The card JSON stored in a cnn export.</summary>
    public static string Card(byte[] model) =>
        Read(model).TryGetValue(CardKey, out var card) ? card : throw new InvalidDataException("no model card found");

    /// <summary>Every float initializer of the graph: name, dims and values (raw_data or float_data).</summary>
    public static IReadOnlyList<(string Name, long[] Dims, float[] Values)> FloatInitializers(byte[] model) =>
        [.. ModelProto.Parser.ParseFrom(model).Graph.Initializer
            .Where(t => t.DataType == (int)TensorProto.Types.DataType.Float)
            .Select(t => (t.Name, t.Dims.ToArray(), t.RawData.IsEmpty ? t.FloatData.ToArray() : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray()))];

    /// <summary>
    /// The model with its probabilities reshaped to [-1, 3] and back to [-1, 10] before they leave the graph: it loads
    /// (its outputs keep their shapes, and the batch size is dynamic, so no check at load sees it) and fails on its
    /// first run, as the hostile probe's edited copy did.
    /// </summary>
    public static byte[] WithFailingReshape(byte[] model, string output = "probabilities")
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var producer = proto.Graph.Node.Single(n => n.Output.Contains(output));
        int slot = producer.Output.IndexOf(output);
        producer.Output[slot] = output + "_before_reshape";
        int classes = (int)proto.Graph.Output.Single(o => o.Name == output).Type.TensorType.Shape.Dim[^1].DimValue;
        proto.Graph.Initializer.Add(new TensorProto { Name = "failing_shape", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, 3 } });
        proto.Graph.Initializer.Add(new TensorProto { Name = "original_shape", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, classes } });
        proto.Graph.Node.Add(new NodeProto { OpType = "Reshape", Name = "failing_reshape", Input = { output + "_before_reshape", "failing_shape" }, Output = { output + "_by_three" } });
        proto.Graph.Node.Add(new NodeProto { OpType = "Reshape", Name = "reshape_back", Input = { output + "_by_three", "original_shape" }, Output = { output } });
        return proto.ToByteArray();
    }
}
