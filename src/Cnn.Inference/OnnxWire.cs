using System.Text;

namespace Cnn.Inference;

/// <summary>The protobuf wire format, as far as reading and extending ONNX files needs it.</summary>
internal static class OnnxWire
{
    public delegate void FieldHandler(int field, ReadOnlySpan<byte> value);

    /// <summary>Calls <paramref name="bytes"/>' handler for each length-delimited field and <paramref name="varint"/> for each varint.</summary>
    public static void Walk(ReadOnlySpan<byte> bytes, string source, FieldHandler bytesField, Action<int, long>? varint = null)
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

    public static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int p, string source)
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

    /// <summary>The first length-delimited field <paramref name="field"/> of <paramref name="message"/> as UTF-8 text; "" if absent.</summary>
    public static string String(ReadOnlySpan<byte> message, int field, string source)
    {
        string? found = null;
        Walk(message, source, (f, v) => found ??= f == field ? Encoding.UTF8.GetString(v) : null);
        return found ?? "";
    }

    /// <summary>A length-delimited field: its tag, the payload's length and the payload.</summary>
    public static byte[] Field(int field, byte[] payload)
    {
        var bytes = new List<byte>(payload.Length + 12);
        Varint(bytes, ((ulong)field << 3) | 2);
        Varint(bytes, (ulong)payload.Length);
        bytes.AddRange(payload);
        return [.. bytes];
    }

    /// <summary>A varint field: its tag and the number.</summary>
    public static byte[] Number(int field, long value)
    {
        var bytes = new List<byte>(12);
        Varint(bytes, (ulong)field << 3);
        Varint(bytes, (ulong)value);
        return [.. bytes];
    }

    private static void Varint(List<byte> bytes, ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
    }
}
