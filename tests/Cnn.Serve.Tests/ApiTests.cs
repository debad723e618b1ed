using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cnn.Inference;
using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Serve.Tests;

/// <summary>API v1 against a real Kestrel: every endpoint, every error status with its content type.</summary>
public sealed class ApiTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private const string Predict = "/v1/models/lenet5-mnist/predict";
    private const string FeatureMaps = "/v1/models/lenet5-mnist/featuremaps";
    private readonly TestServer _server = shared.Server;

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static float[] Floats(string base64) => [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(base64))];

    [Fact]
    public async Task Models_are_listed_with_labels_input_layers_and_accuracy()
    {
        var list = await Json(await _server.Client.GetAsync("/v1/models"));
        var model = Assert.Single(list.EnumerateArray());
        Assert.Equal("lenet5-mnist", model.GetProperty("name").GetString());
        Assert.Equal("mnist", model.GetProperty("dataset").GetString());
        Assert.Equal(10, model.GetProperty("labels").GetArrayLength());
        Assert.Equal("[1,28,28]", model.GetProperty("input").GetProperty("shape").GetRawText());
        Assert.Equal("NCHW", model.GetProperty("input").GetProperty("layout").GetString());
        Assert.Equal("[0,1]", model.GetProperty("input").GetProperty("range").GetRawText());
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], model.GetProperty("feature_layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.Equal("[16,5,5]", model.GetProperty("feature_layers")[3].GetProperty("shape").GetRawText());
        using (var library = CnnModel.Load(Repository.ModelPath))
        {
            var card = library.Card;
            Assert.Equal(card.TestAccuracy, model.GetProperty("test_accuracy").GetDouble());
            Assert.Equal((card.Deskew, card.Temperature, Math.Max(1, card.Members.Count)),
                (model.GetProperty("deskew").GetBoolean(), model.GetProperty("temperature").GetDouble(), model.GetProperty("ensemble_size").GetInt32()));
        }

        Assert.Equal(InferenceOptions.DefaultMinProbability, model.GetProperty("min_probability").GetDouble());

        var one = await Json(await _server.Client.GetAsync("/v1/models/lenet5-mnist"));
        Assert.Equal(model.GetRawText(), one.GetRawText());
    }

    [Fact]
    public async Task A_png_a_multipart_upload_and_json_pixels_give_the_librarys_prediction()
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        var png = Digits.Drawing(7, 200, 200, 30, 30, 5);
        var expected = model.Predict(model.Images.Prepare(png, "x").Pixels);

        var single = await Json(await _server.PostAsync(Predict + "?top=2", png, "image/png"));
        Assert.Equal(expected.Label, single.GetProperty("label").GetString());
        Assert.Equal(expected.Probability, single.GetProperty("probability").GetSingle());
        Assert.Equal(expected.IsUnsure, single.GetProperty("unsure").GetBoolean());
        Assert.Equal(2, single.GetProperty("top").GetArrayLength());
        Assert.Equal(expected.Top(2)[1].Label, single.GetProperty("top")[1].GetProperty("label").GetString());

        using var form = new MultipartFormDataContent();
        foreach (int i in new[] { 7, 0, 1 })
        {
            var file = new ByteArrayContent(Digits.Drawing(i, 200, 200, 30, 30, 5));
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "file", $"{i}.png");
        }

        var several = await Json(await _server.Client.PostAsync(Predict, form));
        Assert.Equal(3, several.GetArrayLength());
        Assert.Equal(single.GetProperty("probability").GetSingle(), several[0].GetProperty("probability").GetSingle());

        var pixels = JsonSerializer.Serialize(new { pixels = Digits.Floats(3, 1) });
        var fromPixels = await Json(await _server.PostAsync(Predict, Encoding.UTF8.GetBytes(pixels), "application/json"));
        Assert.Equal(model.Predict(Digits.Floats(3, 1)).Probability, fromPixels.GetProperty("probability").GetSingle());

        var batch = JsonSerializer.Serialize(new { images = new[] { Digits.Floats(4, 1), Digits.Floats(5, 1) } });
        var fromBatch = await Json(await _server.PostAsync(Predict, Encoding.UTF8.GetBytes(batch), "application/json"));
        Assert.Equal([Digits.Label(4).ToString(), Digits.Label(5).ToString()], fromBatch.EnumerateArray().Select(p => p.GetProperty("label").GetString()));
    }

    [Fact]
    public async Task A_guess_below_the_servers_minimum_probability_is_marked_unsure()
    {
        // Half a digit leaves the net guessing; with --min-probability 1 every answer short of certainty is unsure, with 0 none is.
        var half = Digits.Floats(3, 1);
        Array.Clear(half, 0, 392);
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { pixels = half }));
        var guess = await Json(await _server.PostAsync(Predict, body, "application/json"));
        Assert.Equal(guess.GetProperty("probability").GetSingle() < InferenceOptions.DefaultMinProbability, guess.GetProperty("unsure").GetBoolean());

        await using var strict = await TestServer.StartAsync(o => o with { MinProbability = 1 });
        var unsure = await Json(await strict.PostAsync(Predict, body, "application/json"));
        Assert.True(unsure.GetProperty("unsure").GetBoolean());
        var maps = await Json(await strict.PostAsync("/v1/models/lenet5-mnist/featuremaps", body, "application/json"));
        Assert.True(maps.GetProperty("unsure").GetBoolean());

        await using var never = await TestServer.StartAsync(o => o with { MinProbability = 0 });
        Assert.False((await Json(await never.PostAsync(Predict, body, "application/json"))).GetProperty("unsure").GetBoolean());
    }

    [Fact]
    public async Task Feature_maps_come_as_float32_base64_equal_to_the_librarys()
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        var png = Digits.Drawing(2, 140, 140, 0, 0, 4);
        var prepared = model.Images.Prepare(png, "x");
        var expected = model.GetFeatureMaps(prepared.Pixels);

        var answer = await Json(await _server.PostAsync(FeatureMaps + "?layers=conv1,pool2", png, "image/png"));

        Assert.Equal(expected.Prediction.Label, answer.GetProperty("label").GetString());
        Assert.Equal("[1,28,28]", answer.GetProperty("input").GetProperty("shape").GetRawText());
        Assert.Equal(prepared.Pixels, Floats(answer.GetProperty("input").GetProperty("data").GetString()!));
        var maps = answer.GetProperty("maps");
        Assert.Equal(["conv1", "pool2"], maps.EnumerateObject().Select(m => m.Name));
        Assert.Equal("[6,28,28]", maps.GetProperty("conv1").GetProperty("shape").GetRawText());
        Assert.Equal(expected.Maps["conv1"].Values, Floats(maps.GetProperty("conv1").GetProperty("data").GetString()!));
        Assert.Equal(expected.Maps["pool2"].Values, Floats(maps.GetProperty("pool2").GetProperty("data").GetString()!));

        var all = await Json(await _server.PostAsync(FeatureMaps, png, "image/png"));
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], all.GetProperty("maps").EnumerateObject().Select(m => m.Name));
    }

    [Fact]
    public async Task Conv_kernels_are_served_from_the_weights()
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        var answer = await Json(await _server.Client.GetAsync("/v1/models/lenet5-mnist/layers/conv2/weights"));
        Assert.Equal("[16,6,5,5]", answer.GetProperty("shape").GetRawText());
        Assert.Equal(model.GetKernels("conv2").Values, Floats(answer.GetProperty("data").GetString()!));
    }

    /// <summary>Bad requests by name; built when a test runs, not when xunit discovers the cases (one body is 2.5 MB).</summary>
    private static (string Path, Func<byte[]> Body, string Type, HttpStatusCode Status, string Detail) BadRequest(string name) => name switch
    {
        "malformed JSON" => (Predict, () => "{\"pixels\": [1,"u8.ToArray(), "application/json", HttpStatusCode.BadRequest, "the body is not valid JSON"),
        "wrong pixel count" => (Predict, () => "{\"pixels\": [0.5, 0.5]}"u8.ToArray(), "application/json", HttpStatusCode.BadRequest, "image 0 has 2 pixels; expected C·H·W = 1·28·28 = 784 floats in 0..1"),
        "neither pixels nor images" => (Predict, () => "{}"u8.ToArray(), "application/json", HttpStatusCode.BadRequest, "expected a JSON object with either \"pixels\""),
        "top out of range" => (Predict + "?top=11", () => "{}"u8.ToArray(), "application/json", HttpStatusCode.BadRequest, "top is '11'; expected a whole number 1..10"),
        "unknown model" => ("/v1/models/resnet/predict", () => "{}"u8.ToArray(), "application/json", HttpStatusCode.NotFound, "no model named 'resnet'; served: lenet5-mnist"),
        "unknown layer" => (FeatureMaps + "?layers=conv9", () => Digits.Png28(0), "image/png", HttpStatusCode.NotFound, "lenet5-mnist: no feature map named 'conv9'; available: conv1, pool1, conv2, pool2"),
        "unsupported type" => (Predict, () => "hello"u8.ToArray(), "text/plain", HttpStatusCode.UnsupportedMediaType, "Content-Type 'text/plain'; expected image/png, image/jpeg, image/webp, image/bmp, multipart/form-data or application/json"),
        "not an image" => (Predict, () => "hello"u8.ToArray(), "image/png", HttpStatusCode.UnprocessableEntity, "the request body: not an image SkiaSharp can decode"),
        "blank page" => (Predict, () => Digits.Drawing(0, 100, 100, 500, 500, 1), "image/png", HttpStatusCode.UnprocessableEntity, "the request body: no ink found"),
        "body over --max-body" => (Predict, () => new byte[2_500_000], "image/png", HttpStatusCode.RequestEntityTooLarge, "the body is 2,500,000 bytes; the limit is 2,000,000 (--max-body)"),
        "image over MaxImagePixels" => (Predict, LargePng, "image/png", HttpStatusCode.RequestEntityTooLarge, "the request body: image is 3000×2000 = 6,000,000 pixels; the limit is 4,000,000"),
        "negative pixel" => (Predict, () => PixelsWith(17, "-5"), "application/json", HttpStatusCode.UnprocessableEntity, "image 0: pixel 17 is -5; expected values in 0..1, the model's input range"),
        "huge pixel" => (Predict, () => PixelsWith(3, "1e30"), "application/json", HttpStatusCode.UnprocessableEntity, "image 0: pixel 3 is 1E+30; expected values in 0..1"),
        "3e38 pixels" => (Predict, () => Encoding.UTF8.GetBytes($"{{\"pixels\": [{string.Join(",", Enumerable.Repeat("3e38", 784))}]}}"), "application/json", HttpStatusCode.UnprocessableEntity, "image 0: pixel 0 is 3E+38; expected values in 0..1"),
        "truncated multipart" => (Predict, TruncatedMultipart, "multipart/form-data; boundary=XyZ", HttpStatusCode.BadRequest, "the multipart body is malformed"),
        "images over --max-request-pixels" => (Predict, TwoLargePngs, "multipart/form-data; boundary=XyZ", HttpStatusCode.RequestEntityTooLarge, "the request's 2 images hold 6,000,000 pixels in all; the limit is 5,000,000 (--max-request-pixels)"),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("malformed JSON")]
    [InlineData("wrong pixel count")]
    [InlineData("neither pixels nor images")]
    [InlineData("top out of range")]
    [InlineData("unknown model")]
    [InlineData("unknown layer")]
    [InlineData("unsupported type")]
    [InlineData("not an image")]
    [InlineData("blank page")]
    [InlineData("body over --max-body")]
    [InlineData("image over MaxImagePixels")]
    [InlineData("negative pixel")]
    [InlineData("huge pixel")]
    [InlineData("3e38 pixels")]
    [InlineData("truncated multipart")]
    [InlineData("images over --max-request-pixels")]
    public async Task Bad_input_is_a_problem_json_with_its_status_and_never_a_5xx(string name)
    {
        var (path, body, type, status, detail) = BadRequest(name);
        // Expect: 100-continue, as curl sends for large bodies: a body refused from its headers (413 over --max-body) is
        // then never sent, instead of racing the server's early answer into a broken pipe.
        var content = new ByteArrayContent(body());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.ExpectContinue = true;
        var response = await _server.Client.SendAsync(request);
        Assert.True(status == response.StatusCode, $"{name}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.StartsWith(detail, problem.GetProperty("detail").GetString());
        Assert.DoesNotContain(_server.Folder, problem.GetRawText());
    }

    [Fact]
    public async Task A_pool_layer_has_no_weights_and_unknown_routes_are_problems_too()
    {
        var pool = await _server.Client.GetAsync("/v1/models/lenet5-mnist/layers/pool1/weights");
        Assert.Equal(HttpStatusCode.NotFound, pool.StatusCode);
        Assert.Equal("lenet5-mnist: no conv layer named 'pool1' has kernels; layers with kernels: conv1, conv2", (await Json(pool)).GetProperty("detail").GetString());
        var nowhere = await _server.Client.GetAsync("/v2/nothing");
        Assert.Equal(HttpStatusCode.NotFound, nowhere.StatusCode);
        Assert.Equal("application/problem+json", nowhere.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Thirty_two_parallel_clients_get_exactly_the_serial_answers()
    {
        var bodies = Enumerable.Range(0, 64).Select(i => Digits.Drawing(i % 30, 160, 160, 20, 30, 4, noisyGrey: i % 2 == 0, seed: i)).ToArray();
        var serial = new List<string>();
        foreach (var body in bodies)
        {
            serial.Add(await (await _server.PostAsync(Predict, body, "image/png")).Content.ReadAsStringAsync());
        }

        var parallel = new string[bodies.Length];
        await Parallel.ForAsync(0, bodies.Length, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            parallel[i] = await (await _server.PostAsync(Predict, bodies[i], "image/png")).Content.ReadAsStringAsync());
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public async Task Operations_endpoints_answer()
    {
        Assert.Equal("ok", await _server.Client.GetStringAsync("/healthz"));
        Assert.Equal("ready", await _server.Client.GetStringAsync("/readyz"));
        await _server.PostAsync(Predict, Digits.Png28(0), "image/png");
        string metrics = await _server.Client.GetStringAsync("/metrics");
        Assert.Contains("cnn_inference_duration_seconds_count{model=\"lenet5-mnist\",call=\"predict\"}", metrics);
        Assert.Contains("cnn_model_load_seconds{model=\"lenet5-mnist\"}", metrics);
        Assert.Contains("http_request_duration_seconds_bucket", metrics);
        Assert.Contains("http_requests_in_progress", metrics);
        var openApi = await Json(await _server.Client.GetAsync("/openapi/v1.json"));
        Assert.StartsWith("3.1", openApi.GetProperty("openapi").GetString());
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/models/{name}/featuremaps", out _));
        string predictDoc = openApi.GetProperty("paths").GetProperty("/v1/models/{name}/predict").GetProperty("post").GetProperty("description").GetString()!;
        Assert.Contains("each image at most 4,000,000 pixels (--max-image-pixels) and all images of a request at most 5,000,000 (--max-request-pixels)", predictDoc);
        // The 200s follow the handlers' typed results: one object or an array for predict, the DTO for the rest.
        JsonElement Ok(string path, string method) => openApi.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var oneOf = Ok("/v1/models/{name}/predict", "post").GetProperty("oneOf");
        Assert.Equal("#/components/schemas/PredictionDto", oneOf[0].GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/PredictionDto", oneOf[1].GetProperty("items").GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/FeatureMapsDto", Ok("/v1/models/{name}/featuremaps", "post").GetProperty("oneOf")[0].GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/ModelDto", Ok("/v1/models/{name}", "get").GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/WeightsDto", Ok("/v1/models/{name}/layers/{layer}/weights", "get").GetProperty("$ref").GetString());
        var scalar = await _server.Client.GetAsync("/scalar/");
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        Assert.DoesNotContain("cdn.", await scalar.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        var page = await _server.Client.GetStringAsync("/");
        Assert.Contains("<link rel=\"icon\" href=\"data:,\">", page);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.GetAsync("/favicon.ico")).StatusCode);
    }

    [Fact]
    public void No_libtorch_reaches_a_server()
    {
        var files = Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("libonnxruntime.so", files);
        Assert.DoesNotContain(files, f => f!.Contains("torch", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_status_sent_is_the_status_counted()
    {
        string Count(string metrics, string code) => metrics.Split('\n').FirstOrDefault(l => l.StartsWith("http_requests_received_total{") && l.Contains($"code=\"{code}\"") && l.Contains("method=\"POST\""))?.Split(' ')[^1] ?? "0";
        string before = await _server.Client.GetStringAsync("/metrics");
        var response = await _server.PostAsync(Predict, PixelsWith(0, "-5"), "application/json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        string after = await _server.Client.GetStringAsync("/metrics");
        Assert.Equal(double.Parse(Count(before, "422")) + 1, double.Parse(Count(after, "422")));
        Assert.Equal(Count(before, "200"), Count(after, "200"));
    }

    [Fact]
    public async Task Responses_carry_security_headers_and_head_of_the_page_is_answered()
    {
        var page = await _server.Client.GetAsync("/");
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        string policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        var head = await _server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task A_cross_site_form_post_is_refused_and_a_same_origin_one_is_not()
    {
        static async Task<HttpResponseMessage> PostFrom(TestServer server, string origin)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(Digits.Drawing(7, 200, 200, 30, 30, 5)), "file", "7.png" } };
            var request = new HttpRequestMessage(HttpMethod.Post, Predict) { Content = form };
            request.Headers.Add("Origin", origin);
            return await server.Client.SendAsync(request);
        }

        var cross = await PostFrom(_server, "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, cross.StatusCode);
        Assert.Contains("cnn serve --cors-origin https://evil.example", (await Json(cross)).GetProperty("detail").GetString());
        var same = await PostFrom(_server, _server.BaseAddress.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);

        await using var open = await TestServer.StartAsync(o => o with { CorsOrigins = ["https://app.example"] });
        var allowed = await PostFrom(open, "https://app.example");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("https://app.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(HttpStatusCode.Forbidden, (await PostFrom(open, "https://evil.example")).StatusCode);
    }

    private static byte[] PixelsWith(int index, string value)
    {
        var pixels = Enumerable.Repeat("0", 784).ToArray();
        pixels[index] = value;
        return Encoding.UTF8.GetBytes($"{{\"pixels\": [{string.Join(",", pixels)}]}}");
    }

    /// <summary>A multipart body of two 2000×1500 PNGs: each under the 4-megapixel image limit, together over the request's 5.</summary>
    private static byte[] TwoLargePngs()
    {
        using var surface = SKSurface.Create(new SKImageInfo(2000, 1500));
        surface.Canvas.Clear(SKColors.White);
        var png = Digits.Png(surface);
        byte[] Part(string name) => Encoding.ASCII.GetBytes($"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n");
        return [.. Part("a.png"), .. png, .. "\r\n"u8, .. Part("b.png"), .. png, .. "\r\n--XyZ--\r\n"u8];
    }

    /// <summary>A multipart body that stops in the middle of its file, before the closing boundary.</summary>
    private static byte[] TruncatedMultipart()
    {
        var head = Encoding.ASCII.GetBytes("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"7.png\"\r\nContent-Type: image/png\r\n\r\n");
        return [.. head, .. Digits.Png28(7).AsSpan(0, 40)];
    }

    /// <summary>A 3000×2000 PNG: small as a file, over the server's 4-megapixel limit as an image.</summary>
    private static byte[] LargePng()
    {
        using var surface = SKSurface.Create(new SKImageInfo(3000, 2000));
        surface.Canvas.Clear(SKColors.White);
        return Digits.Png(surface);
    }
}
