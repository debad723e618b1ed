using System.Diagnostics;
using System.Runtime.InteropServices;
using Cnn.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cnn.Serve;

/// <summary>Marks the endpoints that take an image, multipart or JSON body, for the OpenAPI document.</summary>
internal sealed class ImageBodyMetadata;

/// <summary>
/// What the API's handlers take from the request and the server's services, bound by <c>[AsParameters]</c>.
/// </summary>
internal readonly record struct ApiServices(HttpContext Context, ModelRegistry Registry, ServeOptions Options, ServeMetrics Metrics, InferenceGate Gate, FeatureMemory Memory)
{
    /// <summary>
    /// A client's mistake the handler found itself, as the problem the exception handler would have made of it
    /// (<see cref="Problems"/>): returned in the handler's result union, not thrown.
    /// </summary>
    public ProblemHttpResult Problem(int status, string detail) => Problems.Result(Problems.Of(status, detail), Context);
}

/// <summary>
/// API v1: the models, predictions, feature maps and conv kernels. The handlers return their client errors as problem
/// results in their <c>Results</c> unions; what goes wrong deeper (a body that cannot be read, an image that cannot be
/// decoded) is thrown and mapped by <see cref="ProblemExceptionHandler"/>, the one place an exception becomes a problem.
/// </summary>
internal static class ModelEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<ServeOptions>();
        string limits = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Limits: a body of at most {options.MaxBodyBytes:N0} bytes (--max-body, else 413); each image at most {options.MaxImagePixels:N0} pixels (--max-image-pixels) and all images of a request at most {options.MaxRequestPixels:N0} (--max-request-pixels), checked from their headers before decoding (413); JSON pixels within the model's input range (else 422). Feature maps: at most {options.MaxFeatureImages:N0} images a request (--max-feature-images) and an answer of at most {options.MaxFeatureBytes:N0} bytes estimated from the map shapes (--max-feature-bytes), else 413; answers being written hold at most {options.FeatureMemoryBytes:N0} bytes in all (--feature-memory), else 503 with Retry-After.");
        var v1 = app.MapGroup("/v1/models").WithTags("models");
        // Typed results: the OpenAPI document takes each 200's schema from the handler's return type.
        v1.MapGet("/", (ModelRegistry registry) => TypedResults.Ok(registry.Models.Select(Describe).ToArray()))
            .WithSummary("Every served model");
        v1.MapGet("/{name}", GetModel)
            .WithSummary("One model").ProducesProblem(404);
        v1.MapPost("/{name}/predict", PredictAsync)
            .WithSummary("Labels and top classes of one image (an image body or {\"pixels\"}) or several (multipart files or {\"images\"})")
            .WithDescription(limits)
            .WithMetadata(new ImageBodyMetadata())
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(501).ProducesProblem(503);
        v1.MapPost("/{name}/featuremaps", FeatureMapsAsync)
            .WithSummary("The prediction, what the net saw and the feature maps (float32 little-endian, base64) of the layers asked for")
            .WithDescription(limits)
            .WithMetadata(new ImageBodyMetadata())
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(501).ProducesProblem(503);
        v1.MapGet("/{name}/layers/{layer}/weights", GetWeights)
            .WithSummary("The kernels of a conv layer, [out, in, kH, kW], float32 little-endian, base64").ProducesProblem(404);
    }

    private static Results<Ok<ModelDto>, ProblemHttpResult> GetModel(string name, [AsParameters] ApiServices api) =>
        api.Registry.Find(name) is { } served ? TypedResults.Ok(Describe(served)) : NoModel(api, name);

    private static Results<Ok<WeightsDto>, ProblemHttpResult> GetWeights(string name, string layer, [AsParameters] ApiServices api)
    {
        // Routing decodes a route value except its encoded slashes, which other producers' tensor names have
        // (/conv1/Conv_output_0, sent as %2Fconv1%2FConv_output_0).
        layer = layer.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        if (api.Registry.Find(name) is not { } served)
        {
            return NoModel(api, name);
        }

        // The kernels are read from the model pinned for this request; a layer without any is the client's 404.
        var k = served.Use(model => model.HasKernels(layer) ? model.GetKernels(layer) : null);
        return k == null
            ? api.Problem(StatusCodes.Status404NotFound, $"{name}: no conv layer named '{layer}' has kernels; layers with kernels: {Listed(served.Current.Card.Features.Select(f => f.Name).Where(served.Current.HasKernels))}")
            : TypedResults.Ok(new WeightsDto(k.Layer, [k.OutChannels, k.InChannels, k.Height, k.Width], Base64(k.Values)));
    }

    private static async Task<Results<Ok<PredictionDto>, Ok<PredictionDto[]>, ProblemHttpResult>> PredictAsync(string name, string? top, [AsParameters] ApiServices api)
    {
        if (api.Registry.Find(name) is not { } served)
        {
            return NoModel(api, name);
        }

        if (TopOf(top, served.Current) is not { } k)
        {
            return BadTop(api, top, served.Current);
        }

        var received = await RequestImageReader.ReadAsync(api.Context.Request, api.Options, api.Context.RequestAborted);
        using var admitted = await api.Gate.EnterAsync(api.Context.RequestAborted);
        // One model for the whole request: the one that prepares (and checks) the images runs them; if a reload
        // disposes it first, both steps run again on the new one.
        var (request, predictions, seconds) = served.Use(model =>
        {
            var prepared = received.Prepare(model);
            long start = Stopwatch.GetTimestamp();
            var answers = Predict(model, prepared.Images);
            return (prepared, answers, Stopwatch.GetElapsedTime(start).TotalSeconds);
        });
        api.Metrics.Inference.WithLabels(served.Name, "predict").Observe(seconds);
        var dtos = predictions.Select((p, i) => Dto(Finite(p, request.Images[i]), k)).ToArray();
        return request.IsList ? TypedResults.Ok(dtos) : TypedResults.Ok(dtos[0]);
    }

    private static async Task<Results<Ok<FeatureMapsDto>, Ok<FeatureMapsDto[]>, ProblemHttpResult>> FeatureMapsAsync(string name, string? top, string? layers, [AsParameters] ApiServices api)
    {
        if (api.Registry.Find(name) is not { } served)
        {
            return NoModel(api, name);
        }

        if (TopOf(top, served.Current) is not { } k)
        {
            return BadTop(api, top, served.Current);
        }

        var wanted = layers?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (LayersProblem(layers, wanted) is { } layersProblem)
        {
            return api.Problem(StatusCodes.Status400BadRequest, layersProblem);
        }

        var received = await RequestImageReader.ReadAsync(api.Context.Request, api.Options, api.Context.RequestAborted);
        // The answer's size is known from the map shapes before anything runs: too large is 413, and its bytes count
        // against the server's feature memory until the response has been written, however slowly the client reads.
        long bytes = (long)received.Count * AnswerBytes(served.Current, wanted);
        if (SizeProblem(received.Count, bytes, api.Options) is { } sizeProblem)
        {
            return api.Problem(StatusCodes.Status413PayloadTooLarge, sizeProblem);
        }

        api.Context.Response.RegisterForDispose(api.Memory.Reserve(bytes));
        using var admitted = await api.Gate.EnterAsync(api.Context.RequestAborted);
        var (request, dtos, seconds) = served.Use(model =>
        {
            var prepared = received.Prepare(model);
            long start = Stopwatch.GetTimestamp();
            var answers = prepared.Images.Select(image => Dto(model.GetFeatureMaps(image.Pixels, wanted), image, k)).ToArray();
            return (prepared, answers, Stopwatch.GetElapsedTime(start).TotalSeconds);
        });
        api.Metrics.Inference.WithLabels(served.Name, "featuremaps").Observe(seconds);
        return request.IsList ? TypedResults.Ok(dtos) : TypedResults.Ok(dtos[0]);
    }

    private static string Listed(IEnumerable<string> names) => names.Any() ? string.Join(", ", names) : "none";

    /// <summary>What is wrong with the <c>layers</c> query, or null: an empty list, or a layer named twice.</summary>
    private static string? LayersProblem(string? layers, string[]? wanted) =>
        wanted is { Length: 0 } ? $"layers is '{layers}'; expected names such as conv1,pool2, or no layers parameter for all"
        : wanted?.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice ? $"layers names {twice.Key} {twice.Count()} times; expected each layer once"
        : null;

    /// <summary>Why a feature-map answer would be too large, or null.</summary>
    private static string? SizeProblem(int images, long bytes, ServeOptions options) =>
        images > options.MaxFeatureImages ? $"the request holds {images:N0} images; a feature-map request takes at most {options.MaxFeatureImages:N0} (--max-feature-images)"
        : bytes > options.MaxFeatureBytes ? $"the answer would be about {bytes:N0} bytes ({images:N0} images' maps); the limit is {options.MaxFeatureBytes:N0} (--max-feature-bytes): ask for fewer images or layers"
        : null;

    private static ProblemHttpResult NoModel(ApiServices api, string name) =>
        api.Problem(StatusCodes.Status404NotFound, $"no model named '{name}'; served: {string.Join(", ", api.Registry.Models.Select(m => m.Name))}");

    private static ProblemHttpResult BadTop(ApiServices api, string? top, CnnModel model) =>
        api.Problem(StatusCodes.Status400BadRequest, $"top is '{top}'; expected a whole number 1..{model.Labels.Count}");

    /// <summary>A prediction whose probabilities are numbers; NaN or infinity (which JSON cannot carry) is the input's problem.</summary>
    private static Prediction Finite(Prediction p, PreparedImage input) => p.Probabilities.All(float.IsFinite)
        ? p
        : throw Problems.Unprocessable($"{input.Source}: the model's output for this input is not a finite number (NaN or infinity)");

    /// <summary>One image as Predict, several as one batch (one ONNX Runtime call).</summary>
    private static IReadOnlyList<Prediction> Predict(CnnModel model, IReadOnlyList<PreparedImage> images)
    {
        if (images.Count == 1)
        {
            return [model.Predict(images[0].Pixels)];
        }

        var pixels = new float[images.Count * model.InputLength];
        for (int i = 0; i < images.Count; i++)
        {
            images[i].Pixels.CopyTo(pixels, i * model.InputLength);
        }

        return model.PredictBatch(pixels, images.Count);
    }

    /// <summary>The query's <c>top</c>, parsed here so that a word gets a message naming it, not a bare binding failure; null when it is not 1..classes.</summary>
    private static int? TopOf(string? top, CnnModel model) => top switch
    {
        null => Math.Min(3, model.Labels.Count),
        _ when int.TryParse(top, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) && k >= 1 && k <= model.Labels.Count => k,
        _ => null,
    };

    /// <summary>
    /// The JSON bytes of one image's feature-map answer: its input and each map as base64 float32, plus the names,
    /// shapes and prediction around them (512 bytes is ample for a digit model's).
    /// </summary>
    private static long AnswerBytes(CnnModel model, IReadOnlyCollection<string>? wanted)
    {
        static long Base64(long floats) => (floats * 4 + 2) / 3 * 4;
        var shapes = model.Card.Features.Where(f => model.FeatureNames.Contains(f.Name) && (wanted == null || wanted.Contains(f.Name)));
        return 512 + Base64(model.InputLength) + shapes.Sum(f => 64 + Base64((long)f.Shape.Channels * f.Shape.Height * f.Shape.Width));
    }

    private static ModelDto Describe(ServedModel served)
    {
        var card = served.Current.Card;
        var s = card.Input.Shape;
        return new ModelDto(served.Name, card.Dataset, card.Labels, new InputDto([s.Channels, s.Height, s.Width], Cnn.Contracts.OnnxNames.Layout, [card.Input.Range.Min, card.Input.Range.Max]),
            served.Current.FeatureNames.Count == 0 ? [] : [.. card.Features.Select(f => new LayerDto(f.Name, [f.Shape.Channels, f.Shape.Height, f.Shape.Width], served.Current.HasKernels(f.Name)))],
            card.TestAccuracy, served.MinProbability, card.Deskew, card.Temperature, Math.Max(1, card.Members.Count));
    }

    private static PredictionDto Dto(Prediction p, int top) => PredictionDto.From(p, top);

    private static FeatureMapsDto Dto(FeatureMapSet set, PreparedImage input, int top)
    {
        var p = Dto(Finite(set.Prediction, input), top);
        var maps = set.Maps.ToDictionary(m => m.Key, m => new TensorDto([m.Value.Channels, m.Value.Height, m.Value.Width], Base64(m.Value.Values)));
        return new FeatureMapsDto(p.Label, p.Probability, p.Unsure, p.Top, new TensorDto([input.Channels, input.Height, input.Width], Base64(input.Pixels)), maps);
    }

    /// <summary>float32 values as little-endian bytes (the layout of every platform .NET runs on), base64.</summary>
    private static string Base64(float[] values) => Convert.ToBase64String(MemoryMarshal.AsBytes(values.AsSpan()));
}
