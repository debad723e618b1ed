using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cnn.Inference;

/// <summary>A class and its probability, as <c>cnn predict --json</c> and the HTTP API write it.</summary>
/// <param name="Label">The class name.</param>
/// <param name="Probability">Its probability.</param>
public sealed record ScoreDto(string Label, float Probability);

/// <summary>
/// A prediction as it travels: the one shape of <c>cnn predict --json</c> and of the HTTP API's answers (snake_case
/// JSON). <c>unsure</c> is true when the probability is below <see cref="InferenceOptions.MinProbability"/> (the
/// server's <c>--min-probability</c>): the client should ask for the image again rather than act on the label.
/// </summary>
/// <param name="Label">The most probable class.</param>
/// <param name="Probability">Its probability.</param>
/// <param name="Unsure">Whether the probability is below the threshold.</param>
/// <param name="Top">The most probable classes, best first.</param>
public sealed record PredictionDto(string Label, float Probability, bool Unsure, IReadOnlyList<ScoreDto> Top)
{
    /// <summary>The prediction with its <paramref name="top"/> most probable classes.</summary>
    /// <param name="prediction">A prediction.</param>
    /// <param name="top">How many classes to list, ≥ 1.</param>
    /// <returns>Its shape on the wire.</returns>
    public static PredictionDto From(Prediction prediction, int top)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return new(prediction.Label, prediction.Probability, prediction.IsUnsure, [.. prediction.Top(top).Select(t => new ScoreDto(t.Label, t.Probability))]);
    }

    /// <summary>
    /// Writes this prediction's properties (label, probability, unsure, top) into the JSON object <paramref name="writer"/>
    /// is inside, named and encoded as the API names and encodes them.
    /// </summary>
    /// <param name="writer">A writer inside an object.</param>
    public void WriteProperties(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        using var json = JsonSerializer.SerializeToDocument(this, PredictionJson.Wire.PredictionDto);
        foreach (var property in json.RootElement.EnumerateObject())
        {
            property.WriteTo(writer);
        }
    }
}

/// <summary>The wire's JSON settings for predictions: snake_case, nulls left out, labels unescaped ('+' stays '+').</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PredictionDto))]
internal sealed partial class PredictionJson : JsonSerializerContext
{
    /// <summary>The context predictions are written with, as the HTTP API writes them.</summary>
    public static PredictionJson Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
