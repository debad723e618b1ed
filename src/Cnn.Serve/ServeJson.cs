using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cnn.Serve;

/// <summary>A class and its probability, as <c>cnn predict --json</c> writes it.</summary>
public sealed record ScoreDto(string Label, float Probability);

/// <summary>
/// A prediction: the fields of <c>cnn predict --json</c>. <c>unsure</c> is true when the probability is below the
/// server's <c>--min-probability</c>: the client should ask for the image again rather than act on the label.
/// </summary>
public sealed record PredictionDto(string Label, float Probability, bool Unsure, IReadOnlyList<ScoreDto> Top)
{
    /// <summary>The prediction as the API and <c>cnn predict --json</c> write it, with its <paramref name="top"/> classes.</summary>
    /// <param name="prediction">A prediction of Cnn.Inference.</param>
    /// <param name="top">How many classes to list.</param>
    /// <returns>The DTO.</returns>
    public static PredictionDto From(Cnn.Inference.Prediction prediction, int top) =>
        new(prediction.Label, prediction.Probability, prediction.IsUnsure, [.. prediction.Top(top).Select(t => new ScoreDto(t.Label, t.Probability))]);

    /// <summary>
    /// Writes this prediction's properties (label, probability, unsure, top) into the JSON object <paramref name="writer"/>
    /// is inside, named and encoded as the API names and encodes them.
    /// </summary>
    /// <param name="writer">A writer inside an object.</param>
    public void WriteProperties(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        using var json = JsonSerializer.SerializeToDocument(this, ServeJson.Api.PredictionDto);
        foreach (var property in json.RootElement.EnumerateObject())
        {
            property.WriteTo(writer);
        }
    }
}

/// <summary>A tensor of one image: [C, H, W] and base64 of float32 little-endian values in C order.</summary>
public sealed record TensorDto(IReadOnlyList<int> Shape, string Data);

/// <summary>A prediction with what the net saw and its feature maps.</summary>
public sealed record FeatureMapsDto(string Label, float Probability, bool Unsure, IReadOnlyList<ScoreDto> Top, TensorDto Input, IReadOnlyDictionary<string, TensorDto> Maps);

/// <summary>A model's input as the API describes it.</summary>
public sealed record InputDto(IReadOnlyList<int> Shape, string Layout, IReadOnlyList<float> Range);

/// <summary>A feature layer: its name, [C, H, W], and whether /weights has kernels for it (convs do, pools do not).</summary>
public sealed record LayerDto(string Name, IReadOnlyList<int> Shape, bool HasKernels);

/// <summary>
/// What <c>GET /v1/models</c> lists per model: <c>min_probability</c> is the threshold below which predictions are
/// <c>unsure</c>; <c>deskew</c> and <c>temperature</c> come from the model card; <c>ensemble_size</c> is how many nets the
/// probabilities average (1 for a single net; the feature layers are the first net's).
/// </summary>
public sealed record ModelDto(
    string Name, string Dataset, IReadOnlyList<string> Labels, InputDto Input, IReadOnlyList<LayerDto> FeatureLayers, double? TestAccuracy,
    double MinProbability, bool Deskew, double Temperature, int EnsembleSize);

/// <summary>Conv kernels: [out, in, kH, kW] and base64 of float32 little-endian values.</summary>
public sealed record WeightsDto(string Layer, IReadOnlyList<int> Shape, string Data);

/// <summary>A JSON request body: one image's pixels, or several.</summary>
public sealed record PixelsRequest(float[]? Pixels, float[][]? Images);

/// <summary>Source-generated JSON for every body the API reads and writes: snake_case, no reflection.</summary>
// A body naming a key twice is refused (400), not read last-wins: {"pixels": [...], "pixels": [...]} is a client bug.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(PredictionDto))]
[JsonSerializable(typeof(PredictionDto[]))]
[JsonSerializable(typeof(FeatureMapsDto))]
[JsonSerializable(typeof(FeatureMapsDto[]))]
[JsonSerializable(typeof(ModelDto))]
[JsonSerializable(typeof(ModelDto[]))]
[JsonSerializable(typeof(WeightsDto))]
[JsonSerializable(typeof(PixelsRequest))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails))]
internal sealed partial class ServeJson : JsonSerializerContext
{
    /// <summary>The context the API writes with: base64 and labels unescaped ('+' stays '+'), as JSON allows.</summary>
    public static ServeJson Api { get; } = new(Configure(new JsonSerializerOptions()));

    /// <summary>The API's JSON settings, in one place: for <see cref="Api"/> and for the framework's options that typed results use.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        return options;
    }
}
