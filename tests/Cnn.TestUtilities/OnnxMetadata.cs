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
}
