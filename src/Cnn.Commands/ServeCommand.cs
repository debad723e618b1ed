using System.ComponentModel;
using Cnn.Serve;
using Microsoft.Extensions.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Commands;

/// <summary>Options of <c>cnn serve</c>; unset ones take <see cref="ServeOptions"/>' defaults, which the help prints.</summary>
public sealed class ServeSettings : CommandSettings
{
    [CommandArgument(0, "<MODELS>")]
    [Description("ONNX files written by `cnn export` (their .features.onnx siblings give the feature maps), or another producer's with its card beside it (cnn describe); a model's name is its file stem")]
    public string[] Models { get; init; } = [];

    [CommandOption("--urls <URLS>")]
    [ServeDefaultDescription("Addresses to listen on, ';'-separated; loopback unless you say otherwise.", nameof(ServeOptions.Urls))]
    public string? Urls { get; init; }

    [CommandOption("--threads <N>")]
    [ServeDefaultDescription("ONNX Runtime threads per inference call (1 lets concurrent requests share the cores).", nameof(ServeOptions.IntraOpThreads))]
    public int? Threads { get; init; }

    [CommandOption("--max-concurrency <N>")]
    [ServeDefaultDescription("Inference requests admitted at once, running or queued; past that the answer is 503 with Retry-After.", nameof(ServeOptions.MaxConcurrency))]
    public int? MaxConcurrency { get; init; }

    [CommandOption("--max-body <BYTES>")]
    [ServeDefaultDescription("Largest request body; larger ones get 413.", nameof(ServeOptions.MaxBodyBytes))]
    public long? MaxBody { get; init; }

    [CommandOption("--max-image-pixels <N>")]
    [ServeDefaultDescription("Largest image a request may carry, checked from its header before decoding; larger ones get 413.", nameof(ServeOptions.MaxImagePixels))]
    public long? MaxImagePixels { get; init; }

    [CommandOption("--max-request-pixels <N>")]
    [ServeDefaultDescription("Most pixels all images of one request may hold together (many photos in one multipart upload), checked before any is decoded; over it 413.", nameof(ServeOptions.MaxRequestPixels))]
    public long? MaxRequestPixels { get; init; }

    [CommandOption("--max-feature-images <N>")]
    [ServeDefaultDescription("Most images one feature-map request may carry; more get 413.", nameof(ServeOptions.MaxFeatureImages))]
    public int? MaxFeatureImages { get; init; }

    [CommandOption("--max-feature-bytes <BYTES>")]
    [ServeDefaultDescription("Largest feature-map response, estimated from the model's map shapes before anything runs; larger requests get 413.", nameof(ServeOptions.MaxFeatureBytes))]
    public long? MaxFeatureBytes { get; init; }

    [CommandOption("--feature-memory <BYTES>")]
    [ServeDefaultDescription("Feature-map response bytes held at once, until each is written to its client (slow readers included); past it 503 with Retry-After.", nameof(ServeOptions.FeatureMemoryBytes))]
    public long? FeatureMemory { get; init; }

    [CommandOption("--max-model-bytes <BYTES>")]
    [ServeDefaultDescription("Largest model file served or reloaded; FIFOs and devices are always refused.", nameof(ServeOptions.MaxModelBytes))]
    public long? MaxModelBytes { get; init; }

    [CommandOption("--min-probability <P>")]
    [Description("Predictions below this probability are answered with unsure: true (the page asks to draw again); 0 = never. Default: each model card's threshold (unsure_below), else 0.9")]
    public double? MinProbability { get; init; }

    [CommandOption("--cors-origin <ORIGIN>")]
    [Description("An origin (https://example.com) whose pages may POST to the API from a browser; repeat for several. Default: none (only the server's own page; curl and apps send no Origin and are not affected)")]
    public string[]? CorsOrigins { get; init; }

    [CommandOption("--allowed-host <HOST>")]
    [Description("A Host header the server answers (example.com, *.example.com); repeat for several; others get 400. Default: any")]
    public string[]? AllowedHosts { get; init; }

    [CommandOption("--drain <SECONDS>")]
    [ServeDefaultDescription("After SIGTERM, how long /readyz answers 503 while requests are still served, so a load balancer stops sending before connections close (Kubernetes: a few seconds, less than terminationGracePeriodSeconds).", nameof(ServeOptions.DrainDelay))]
    public double? Drain { get; init; }

    [CommandOption("--quiet")]
    [Description("No log line per request")]
    public bool Quiet { get; init; }

    private ServeOptions? _options;

    /// <summary>
    /// The validated options these settings describe; unset ones take <see cref="ServeOptions"/>' defaults. Built and
    /// validated once (settings are bound before <see cref="Validate"/> and never change after).
    /// </summary>
    public ServeOptions Options => _options ??= Build();

    private ServeOptions Build()
    {
        var d = new ServeOptions();
        return (d with
        {
            ModelPaths = Models,
            Urls = Urls ?? d.Urls,
            IntraOpThreads = Threads ?? d.IntraOpThreads,
            MaxConcurrency = MaxConcurrency ?? d.MaxConcurrency,
            MaxBodyBytes = MaxBody ?? d.MaxBodyBytes,
            MaxImagePixels = MaxImagePixels ?? d.MaxImagePixels,
            MaxRequestPixels = MaxRequestPixels ?? d.MaxRequestPixels,
            MaxFeatureImages = MaxFeatureImages ?? d.MaxFeatureImages,
            MaxFeatureBytes = MaxFeatureBytes ?? d.MaxFeatureBytes,
            FeatureMemoryBytes = FeatureMemory ?? d.FeatureMemoryBytes,
            MaxModelBytes = MaxModelBytes ?? d.MaxModelBytes,
            MinProbability = MinProbability ?? d.MinProbability,
            CorsOrigins = CorsOrigins ?? d.CorsOrigins,
            AllowedHosts = AllowedHosts ?? d.AllowedHosts,
            DrainDelay = Drain is { } seconds ? DrainSpan(seconds) : d.DrainDelay,
            Quiet = Quiet,
        }).Validated();
    }

    // A non-finite or huge value is reported by the options' own range check, not by TimeSpan's overflow.
    private static TimeSpan DrainSpan(double seconds) =>
        double.IsFinite(seconds) && Math.Abs(seconds) < 1e6 ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;

    /// <summary>Builds the options once, so every rule lives in <see cref="ServeOptions.Validated"/>.</summary>
    /// <returns>Success, or the rule's message.</returns>
    public override ValidationResult Validate() => SettingsCheck.Of(() => _ = Options);
}

/// <summary>
/// <c>cnn serve</c> and <c>cnn-serve</c> (the serve-only host a container runs): the HTTP API and the explorer page for one or more models, until SIGTERM or Ctrl-C, which let the
/// requests in flight finish and exit 0.
/// </summary>
public sealed class ServeCommand(IAnsiConsole console) : AsyncCommand<ServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServeSettings settings, CancellationToken cancellationToken)
    {
        var options = settings.Options;
        await using var app = CnnServer.Build(options);
        await app.StartAsync(cancellationToken);
        console.MarkupLineInterpolated($"[bold]cnn serve[/]: {string.Join(", ", options.ModelPaths.Select(Path.GetFileName))} on {string.Join(", ", app.Urls)} — the explorer page is at /, the API page at /scalar");
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}

/// <summary>A description ending with the default of a <see cref="ServeOptions"/> property, read from the options record.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class ServeDefaultDescriptionAttribute(string text, string property) : DescriptionAttribute(text)
{
    public override string Description => $"{DescriptionValue} Default: {Format(typeof(ServeOptions).GetProperty(property)!.GetValue(new ServeOptions()))}";

    private static string? Format(object? value) => value is TimeSpan span
        ? span.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
}
