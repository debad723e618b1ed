using System.Buffers.Binary;
using System.Text;

namespace Cnn.Inference;

/// <summary>
/// Reads the few parts of an ONNX file that ONNX Runtime's API does not expose — metadata without creating a session,
/// and the float initializers (a conv layer's kernels) — straight from the protobuf wire format, skipping the rest.
/// </summary>
internal static class OnnxFileReader
{
    // Field numbers from onnx.proto: ModelProto.graph = 7, ModelProto.metadata_props = 14; StringStringEntryProto
    // key = 1, value = 2; GraphProto.initializer = 5; TensorProto dims = 1, data_type = 2, float_data = 4, name = 8,
    // raw_data = 9.
    private const int ModelGraph = 7;
    private const int ModelMetadata = 14;
    private const int GraphInitializer = 5;
    private const int TensorDims = 1;
    private const int TensorDataType = 2;
    private const int TensorFloatData = 4;
    private const int TensorName = 8;
    private const int TensorRawData = 9;
    private const int FloatType = 1;
    private const int Int8Type = 3;

    /// <summary>The file's metadata_props.</summary>
    public static Dictionary<string, string> Metadata(ReadOnlySpan<byte> model, string source)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        OnnxWire.Walk(model, source, (field, value) =>
        {
            if (field == ModelMetadata)
            {
                string? key = null, text = null;
                OnnxWire.Walk(value, source, (f, v) =>
                {
                    if (f == 1)
                    {
                        key = Encoding.UTF8.GetString(v);
                    }
                    else if (f == 2)
                    {
                        text = Encoding.UTF8.GetString(v);
                    }
                });
                if (key != null)
                {
                    metadata[key] = text ?? "";
                }
            }
        });
        return metadata;
    }

    /// <summary>The float initializer called <paramref name="name"/>: its dims and values; null if the graph has none of that name.</summary>
    public static (long[] Dims, float[] Values)? FloatInitializer(ReadOnlySpan<byte> model, string name, string source) =>
        Initializer(model, name, FloatType, source) is { } t
            ? (t.Dims, t.Raw != null ? [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.Raw)] : [.. t.Floats])
            : null;

    /// <summary>The int8 initializer called <paramref name="name"/> (an int8 model's weights): its dims and values; null if there is none.</summary>
    public static (long[] Dims, sbyte[] Values)? Int8Initializer(ReadOnlySpan<byte> model, string name, string source) =>
        Initializer(model, name, Int8Type, source) is { Raw: { } raw } t ? (t.Dims, [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(raw)]) : null;

    private static Tensor? Initializer(ReadOnlySpan<byte> model, string name, int type, string source)
    {
        Tensor? found = null;
        OnnxWire.Walk(model, source, (field, graph) =>
        {
            if (field != ModelGraph)
            {
                return;
            }

            OnnxWire.Walk(graph, source, (f, tensor) =>
            {
                if (f == GraphInitializer && found == null && ReadTensor(tensor, source) is { } t && t.Name == name && t.Type == type)
                {
                    found = t;
                }
            });
        });
        return found;
    }

    /// <summary>A tensor's name, type, dims, and its values as stored: raw bytes (little-endian), or float_data.</summary>
    private sealed record Tensor(string? Name, int Type, long[] Dims, byte[]? Raw, List<float> Floats);

    private static Tensor ReadTensor(ReadOnlySpan<byte> tensor, string source)
    {
        var dims = new List<long>();
        string? name = null;
        int type = 0;
        byte[]? raw = null;
        var floats = new List<float>();
        OnnxWire.Walk(tensor, source, (field, value) =>
        {
            switch (field)
            {
                case TensorName:
                    name = Encoding.UTF8.GetString(value);
                    break;
                case TensorRawData:
                    raw = value.ToArray();
                    break;
                case TensorDims:
                    // proto3 writers pack repeated numbers; proto2 writers (ONNX's own) send them one by one below.
                    for (int i = 0; i < value.Length;)
                    {
                        dims.Add((long)OnnxWire.ReadVarint(value, ref i, source));
                    }

                    break;
                case TensorFloatData:
                    for (int i = 0; i + 4 <= value.Length; i += 4)
                    {
                        floats.Add(BinaryPrimitives.ReadSingleLittleEndian(value[i..]));
                    }

                    break;
            }
        }, (field, number) =>
        {
            if (field == TensorDims)
            {
                dims.Add(number);
            }
            else if (field == TensorDataType)
            {
                type = (int)number;
            }
        });
        return new Tensor(name, type, [.. dims], raw, floats);
    }
}
