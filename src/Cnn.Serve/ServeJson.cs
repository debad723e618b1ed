using System.Text.Json;
using System.Text.Json.Serialization;

using Cnn.Inference;

namespace Cnn.Serve;

/// <summary>A tensor of one image: [C, H, W] and base64 of float32 little-endian values in C order.</summary>
public sealed record TensorDto(IReadOnlyList<int> Shape, string Data);

/// <summary>A prediction with what the net saw and its feature maps.</summary>
public sealed record FeatureMapsDto(string Label, float Probability, bool Unsure, IReadOnlyList<ScoreDto> Top, TensorDto Input, IReadOnlyDictionary<string, TensorDto> Maps);

/// <summary>
/// A model's input as the API takes it: JSON pixels are always [C, H, W] (NCHW) raw intensities in the range, whatever
/// layout and normalisation the graph itself wants (the server adapts them).
/// </summary>
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
