using System.Text;

namespace Cnn.Tests;

/// <summary>
/// Rewrites an ONNX file's metadata_props (ModelProto field 14) in the protobuf wire format, leaving every other byte as
/// it was: for tests of files whose card is missing, tampered with or from a future version.
/// </summary>
public static class OnnxMetadata
{
    private const int MetadataField = 14;

    /// <summary>The file with its metadata replaced by <paramref name="metadata"/>.</summary>
    public static byte[] Replace(byte[] model, IReadOnlyDictionary<string, string> metadata)
    {
        using var output = new MemoryStream();
        int p = 0;
        while (p < model.Length)
        {
            int start = p;
            ulong tag = ReadVarint(model, ref p);
            switch ((int)(tag & 7))
            {
                case 0:
                    ReadVarint(model, ref p);
                    break;
                case 1:
                    p += 8;
                    break;
                case 2:
                    int length = (int)ReadVarint(model, ref p);
                    p += length;
                    break;
                case 5:
                    p += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {tag & 7}");
            }

            if ((int)(tag >> 3) != MetadataField)
            {
                output.Write(model, start, p - start);
            }
        }

        foreach (var (key, value) in metadata)
        {
            var entry = new MemoryStream();
            WriteBytes(entry, 1, Encoding.UTF8.GetBytes(key));
            WriteBytes(entry, 2, Encoding.UTF8.GetBytes(value));
            WriteBytes(output, MetadataField, entry.ToArray());
        }

        return output.ToArray();
    }

    /// <summary>The card JSON stored in a cnn export.</summary>
    public static string Card(byte[] model)
    {
        string text = Encoding.UTF8.GetString(model);
        int start = text.IndexOf("{\"format_version\"", StringComparison.Ordinal);
        int depth = 0;
        for (int i = start; i < text.Length; i++)
        {
            depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                return text[start..(i + 1)];
            }
        }

        throw new InvalidDataException("no model card found");
    }

    private static void WriteBytes(Stream stream, int field, byte[] bytes)
    {
        WriteVarint(stream, ((ulong)field << 3) | 2);
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }

    private static ulong ReadVarint(byte[] bytes, ref int p)
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[p++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }
}
