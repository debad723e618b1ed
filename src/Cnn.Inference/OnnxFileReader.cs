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

    /// <summary>The file's metadata_props.</summary>
    public static Dictionary<string, string> Metadata(ReadOnlySpan<byte> model, string source)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(model, source, (field, value) =>
        {
            if (field == ModelMetadata)
            {
                string? key = null, text = null;
                Walk(value, source, (f, v) =>
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
    public static (long[] Dims, float[] Values)? FloatInitializer(ReadOnlySpan<byte> model, string name, string source)
    {
        (long[], float[])? found = null;
        Walk(model, source, (field, graph) =>
        {
            if (field != ModelGraph)
            {
                return;
            }

            Walk(graph, source, (f, tensor) =>
            {
                if (f == GraphInitializer && found == null)
                {
                    found = ReadTensor(tensor, name, source);
                }
            });
        });
        return found;
    }

    private static (long[], float[])? ReadTensor(ReadOnlySpan<byte> tensor, string wanted, string source)
    {
        var dims = new List<long>();
        string? name = null;
        int type = 0;
        float[]? values = null;
        var floats = new List<float>();
        Walk(tensor, source, (field, value) =>
        {
            switch (field)
            {
                case TensorName:
                    name = Encoding.UTF8.GetString(value);
                    break;
                case TensorRawData:
                    values = new float[value.Length / sizeof(float)];
                    for (int i = 0; i < values.Length; i++)
                    {
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(value[(i * 4)..]);
                    }

                    break;
                case TensorDims:
                    // proto3 writers pack repeated numbers; proto2 writers (ONNX's own) send them one by one below.
                    for (int i = 0; i < value.Length;)
                    {
                        dims.Add((long)ReadVarint(value, ref i, source));
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
        if (name != wanted || type != FloatType)
        {
            return null;
        }

        return ([.. dims], values ?? [.. floats]);
    }

    private delegate void FieldHandler(int field, ReadOnlySpan<byte> value);

    /// <summary>Calls <paramref name="bytes"/>' handler for each length-delimited field and <paramref name="varint"/> for each varint.</summary>
    private static void Walk(ReadOnlySpan<byte> bytes, string source, FieldHandler bytesField, Action<int, long>? varint = null)
    {
        int p = 0;
        while (p < bytes.Length)
        {
            ulong tag = ReadVarint(bytes, ref p, source);
            int field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    long number = (long)ReadVarint(bytes, ref p, source);
                    varint?.Invoke(field, number);
                    break;
                case 1:
                    p += 8;
                    break;
                case 2:
                    ulong length = ReadVarint(bytes, ref p, source);
                    if (length > (ulong)(bytes.Length - p))
                    {
                        throw new InvalidModelException($"{source}: not a valid ONNX file (a field runs past the end of the file)");
                    }

                    bytesField(field, bytes.Slice(p, (int)length));
                    p += (int)length;
                    break;
                case 5:
                    p += 4;
                    break;
                default:
                    throw new InvalidModelException($"{source}: not a valid ONNX file (protobuf wire type {tag & 7} at byte {p})");
            }
        }

        if (p != bytes.Length)
        {
            throw new InvalidModelException($"{source}: not a valid ONNX file (truncated)");
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int p, string source)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (p >= bytes.Length)
            {
                throw new InvalidModelException($"{source}: not a valid ONNX file (truncated)");
            }

            byte b = bytes[p++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidModelException($"{source}: not a valid ONNX file (a number is longer than 10 bytes)");
    }
}
