using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cnn.Contracts;

/// <summary>Source-generated JSON for the card: snake_case names, no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ModelCard))]
internal sealed partial class ModelCardJson : JsonSerializerContext;

/// <summary>[C, H, W] as a three-number array.</summary>
internal sealed class TensorShapeJsonConverter : JsonConverter<TensorShape>
{
    public override TensorShape Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var values = ReadInts(ref reader);
        return values.Count == 3
            ? new TensorShape(values[0], values[1], values[2])
            : throw new JsonException($"a shape has 3 numbers [C, H, W]; found {values.Count}");
    }

    public override void Write(Utf8JsonWriter writer, TensorShape value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Channels);
        writer.WriteNumberValue(value.Height);
        writer.WriteNumberValue(value.Width);
        writer.WriteEndArray();
    }

    private static List<int> ReadInts(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"expected an array [C, H, W]; found {reader.TokenType}");
        }

        var values = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int v)
                ? v
                : throw new JsonException($"a shape holds whole numbers; found {reader.TokenType}"));
        }

        return values;
    }
}

/// <summary>[min, max] as a two-number array.</summary>
internal sealed class ValueRangeJsonConverter : JsonConverter<ValueRange>
{
    public override ValueRange Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"expected an array [min, max]; found {reader.TokenType}");
        }

        var values = new List<float>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType == JsonTokenType.Number ? reader.GetSingle() : throw new JsonException($"a range holds numbers; found {reader.TokenType}"));
        }

        return values.Count == 2 ? new ValueRange(values[0], values[1]) : throw new JsonException($"a range has 2 numbers [min, max]; found {values.Count}");
    }

    public override void Write(Utf8JsonWriter writer, ValueRange value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Min);
        writer.WriteNumberValue(value.Max);
        writer.WriteEndArray();
    }
}
