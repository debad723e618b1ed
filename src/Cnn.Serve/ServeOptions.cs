namespace Cnn.Serve;

/// <summary>How the server runs: its models, address, inference threads and the limits that protect it. Validated once.</summary>
public sealed record ServeOptions
{
    /// <summary>The default address: loopback only, unless the caller says otherwise.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";

    /// <summary>The .onnx files to serve; each model's name is its file stem.</summary>
    public IReadOnlyList<string> ModelPaths { get; init; } = [];

    /// <summary>Addresses to listen on, separated by ';'.</summary>
    public string Urls { get; init; } = DefaultUrls;

    /// <summary>ONNX Runtime intra-op threads per inference call: 1 lets concurrent requests use the cores.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>
    /// Inference requests admitted at once, running or waiting (a request is admitted once its body has arrived; as many
    /// run as there are cores); past this the server answers 503 with Retry-After.
    /// </summary>
    public int MaxConcurrency { get; init; } = 512;

    /// <summary>The largest request body, in bytes; larger ones get 413.</summary>
    public long MaxBodyBytes { get; init; } = 10_000_000;

    /// <summary>Largest image, in pixels, decoded from a request; larger ones get 413 before they are decoded.</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    /// <summary>
    /// The most pixels all images of one request may hold together (a multipart upload of many large photos); over it
    /// the request gets 413, measured from the images' headers before any is decoded. Decoding costs 10–20 ms of CPU
    /// per megapixel on this project's machine, inside the request's inference admission.
    /// </summary>
    public long MaxRequestPixels { get; init; } = 50_000_000;

    /// <summary>Most images one feature-map request may carry (each answers with every map it asks for); more get 413.</summary>
    public int MaxFeatureImages { get; init; } = 64;

    /// <summary>
    /// The largest feature-map response, in bytes, estimated from the model's map shapes before anything runs (base64
    /// floats and their JSON); larger requests get 413. A 28×28 digit's answer with all four maps of the seed's LeNet-5 is about 47 KB.
    /// </summary>
    public long MaxFeatureBytes { get; init; } = 32_000_000;

    /// <summary>
    /// Bytes of feature-map responses the server holds at once, from the request's admission until its response is
    /// written (a slow reader keeps its share): past it new feature-map requests get 503 with Retry-After, so slow
    /// readers cannot make the server's memory grow without bound.
    /// </summary>
    public long FeatureMemoryBytes { get; init; } = 256_000_000;

    /// <summary>Model files larger than this are refused at start and on reload; a path that is not a regular file (a FIFO, a device) always is.</summary>
    public long MaxModelBytes { get; init; } = Cnn.Inference.InferenceOptions.DefaultMaxModelBytes;

    /// <summary>
    /// Predictions whose top probability is below this are answered with <c>unsure: true</c>; 0 marks none. Null (the
    /// default): each model's own threshold from its card, else <see cref="Cnn.Inference.InferenceOptions.DefaultMinProbability"/>.
    /// </summary>
    public double? MinProbability { get; init; }

    /// <summary>
    /// Origins (scheme://host[:port]) whose pages may POST to the API from a browser and read the answers; others are
    /// refused with 403. Empty: only the server's own pages (and clients that send no Origin, such as curl and apps).
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>
    /// Host names the server answers (ASP.NET Core host filtering; <c>*.example.com</c> wildcards work); other Host
    /// headers get 400. Empty: any host, as a server behind a proxy that checks it would want.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>No log line per request.</summary>
    public bool Quiet { get; init; }

    /// <summary>How long after the last change to a served file it is reloaded: an export renames two files.</summary>
    public TimeSpan ReloadDelay { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// After SIGTERM or Ctrl-C, how long the server keeps answering (with /readyz already 503) before it closes its
    /// connections: requests a client has sent but the server has not read yet are answered, not reset.
    /// </summary>
    public TimeSpan DrainDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest <see cref="DrainDelay"/>: a drain is a few seconds for a load balancer to notice, not a way to keep a stopped server up.</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(60);

    /// <summary>Returns these options, or throws <see cref="ArgumentException"/> naming the first one out of range.</summary>
    public ServeOptions Validated()
    {
        if (ModelPaths.Count == 0)
        {
            throw new ArgumentException("no model given; expected one or more .onnx files written by `cnn export` or described by `cnn describe`");
        }

        var names = ModelPaths.Select(ServedModel.NameOf).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            throw new ArgumentException($"two models share a name ({string.Join(", ", names)}); a model's name is its file stem, so give the files different names");
        }

        Require(IntraOpThreads is >= 1 and <= 256, $"--threads is {IntraOpThreads}; expected 1..256");
        Require(MaxConcurrency >= 1, $"--max-concurrency is {MaxConcurrency}; expected ≥ 1");
        Require(MaxBodyBytes >= 1024, $"--max-body is {MaxBodyBytes}; expected at least 1024 bytes");
        Require(MaxImagePixels >= 1, $"--max-image-pixels is {MaxImagePixels}; expected ≥ 1");
        Require(MaxRequestPixels >= MaxImagePixels, $"--max-request-pixels is {MaxRequestPixels}; expected at least --max-image-pixels ({MaxImagePixels}), so one image of the largest size fits");
        Require(MaxFeatureImages >= 1, $"--max-feature-images is {MaxFeatureImages}; expected ≥ 1");
        Require(MaxFeatureBytes >= 1024, $"--max-feature-bytes is {MaxFeatureBytes}; expected at least 1024 bytes");
        Require(FeatureMemoryBytes >= MaxFeatureBytes, $"--feature-memory is {FeatureMemoryBytes}; expected at least --max-feature-bytes ({MaxFeatureBytes}), so one response of the largest size fits");
        Require(MaxModelBytes >= 1024, $"--max-model-bytes is {MaxModelBytes}; expected at least 1024 bytes");
        Require(MinProbability is null or (>= 0 and <= 1), $"--min-probability is {MinProbability?.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected 0..1 (0 = never unsure)");
        Require(DrainDelay >= TimeSpan.Zero && DrainDelay <= MaxDrain, $"--drain is {(DrainDelay == TimeSpan.MaxValue ? "out of range" : DrainDelay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + " s")}; expected 0..{MaxDrain.TotalSeconds:F0} seconds");
        Require(!string.IsNullOrWhiteSpace(Urls), "--urls is empty; expected an address such as http://127.0.0.1:5000");
        foreach (var origin in CorsOrigins)
        {
            Require(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && !origin.EndsWith('/') && uri.Query.Length == 0,
                $"--cors-origin is '{origin}'; expected an origin such as https://example.com or http://localhost:3000 (scheme, host and port, no path)");
        }

        foreach (var host in AllowedHosts)
        {
            Require(!string.IsNullOrWhiteSpace(host) && !host.Contains('/'), $"--allowed-host is '{host}'; expected a host name such as example.com or *.example.com");
        }

        return this;
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}
