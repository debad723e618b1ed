using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Cnn.Tests;

namespace Cnn.Serve.Tests;

/// <summary>The second hostile probe's cases, each rebuilt: hot reload that cannot kill the server, bounded feature maps, and the smaller ones.</summary>
public sealed class HostileProbeTests
{
    private const string Predict = "/v1/models/lenet5-mnist/predict";
    private const string FeatureMaps = "/v1/models/lenet5-mnist/featuremaps";

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static async Task<string> Detail(HttpResponseMessage response) => (await Json(response)).GetProperty("detail").GetString()!;

    private static async Task<string> Metrics(TestServer server) => await server.Client.GetStringAsync("/metrics");

    private static async Task FailedReloads(TestServer server, int count) =>
        await Poll.Until(async () => (await Metrics(server)).Contains($"cnn_model_reload_failures_total{{model=\"lenet5-mnist\"}} {count}"));

    private static async Task StillServes(TestServer server) =>
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync(Predict, Digits.Png28(0), "image/png")).StatusCode);

    /// <summary>Puts <paramref name="make"/>'s file in place of the served model by a rename, as a deployment would.</summary>
    private static void Replace(TestServer server, Action<string> make)
    {
        string temp = server.ModelPath + ".new";
        make(temp);
        // mv -T: a rename that replaces the served path whatever kind of file the new one is (File.Move follows no links).
        using var mv = Process.Start("mv", ["-T", temp, server.ModelPath]);
        mv.WaitForExit();
        Assert.Equal(0, mv.ExitCode);
    }

    [Fact]
    public async Task A_model_whose_warm_up_fails_is_refused_counted_and_the_old_one_keeps_serving()
    {
        await using var server = await TestServer.StartAsync();
        var good = File.ReadAllBytes(server.ModelPath);
        Replace(server, path => File.WriteAllBytes(path, OnnxMetadata.WithFailingReshape(good)));
        await FailedReloads(server, 1);
        await StillServes(server);

        // Put back, the good file is picked up again.
        Replace(server, path => File.WriteAllBytes(path, good));
        await Poll.Until(async () => (await Metrics(server)).Contains("cnn_model_reloads_total{model=\"lenet5-mnist\"} 1"));
        await StillServes(server);
    }

    [Fact]
    public async Task A_fifo_in_place_of_the_model_is_refused_without_blocking_and_a_good_file_put_back_reloads()
    {
        await using var server = await TestServer.StartAsync();
        var good = File.ReadAllBytes(server.ModelPath);
        Replace(server, path =>
        {
            using var mkfifo = Process.Start("mkfifo", [path]);
            mkfifo.WaitForExit();
        });
        await FailedReloads(server, 1);
        await StillServes(server);
        Replace(server, path => File.WriteAllBytes(path, good));
        await Poll.Until(async () => (await Metrics(server)).Contains("cnn_model_reloads_total{model=\"lenet5-mnist\"} 1"));
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task A_link_to_a_device_and_a_file_over_the_size_limit_are_refused_and_counted()
    {
        long size = new FileInfo(Repository.ModelPath).Length;
        await using var server = await TestServer.StartAsync(o => o with { MaxModelBytes = size + 1000 });
        Replace(server, path => File.CreateSymbolicLink(path, "/dev/zero"));
        await FailedReloads(server, 1);
        await StillServes(server);
        var padded = File.ReadAllBytes(Repository.ModelPath).Concat(new byte[2000]).ToArray();
        Replace(server, path => File.WriteAllBytes(path, padded));
        await FailedReloads(server, 2);
        await StillServes(server);
    }

    [Fact]
    public async Task Feature_map_requests_past_the_image_or_byte_cap_get_413_before_anything_runs()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxFeatureImages = 4, MaxFeatureBytes = 100_000 });
        string Images(int count) => JsonSerializer.Serialize(new { images = Enumerable.Range(0, count).Select(i => Digits.Floats(i, 1)) });
        var many = await server.PostAsync(FeatureMaps, Encoding.UTF8.GetBytes(Images(5)), "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, many.StatusCode);
        Assert.Equal("the request holds 5 images; a feature-map request takes at most 4 (--max-feature-images)", await Detail(many));

        var large = await server.PostAsync(FeatureMaps, Encoding.UTF8.GetBytes(Images(4)), "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.StartsWith("the answer would be about ", await Detail(large));

        // One layer of the same four images fits: the estimate follows the layers asked for.
        var one = await server.PostAsync(FeatureMaps + "?layers=pool2", Encoding.UTF8.GetBytes(Images(4)), "application/json");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var answer = await one.Content.ReadAsByteArrayAsync();
        Assert.True(answer.Length < 100_000, $"{answer.Length} bytes");
    }

    [Fact]
    public async Task A_slow_reader_holds_its_answers_bytes_until_it_has_read_them_and_others_meanwhile_get_503()
    {
        // Room for one answer of 200 digits' maps (about 9.4 MB), not two. The answer is larger than the socket buffers
        // between server and client can take (Linux lets a sender buffer up to 4 MB), so the server is still writing it.
        await using var server = await TestServer.StartAsync(o => o with { MaxFeatureImages = 200, MaxFeatureBytes = 10_000_000, FeatureMemoryBytes = 15_000_000 });
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { images = Enumerable.Range(0, 200).Select(i => Digits.Floats(i, 1)) }));
        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await slow.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await slow.SendAsync(Encoding.ASCII.GetBytes(
            $"POST {FeatureMaps} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).ToArray());
        var first = new byte[1024];
        int got = await slow.ReceiveAsync(first);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(first, 0, got));

        // The answer is far from written (the slow client has read 1 KB of it): a second one does not fit.
        var busy = await server.PostAsync(FeatureMaps, body, "application/json");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Equal("1", busy.Headers.RetryAfter?.ToString());
        Assert.Contains("(--feature-memory)", await Detail(busy));

        // Once the slow client has read everything, the memory is free again.
        var rest = new byte[65536];
        string tail = "";
        while (!tail.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) && !tail.EndsWith("}]", StringComparison.Ordinal) && await slow.ReceiveAsync(rest) is > 0 and var n)
        {
            tail = (tail + Encoding.ASCII.GetString(rest, 0, n))[^Math.Min(16, tail.Length + n)..];
        }

        await Poll.Until(async () => (await server.PostAsync(FeatureMaps, body, "application/json")).StatusCode == HttpStatusCode.OK);
    }

    /// <summary>A raw HTTP/1.1 exchange: the bytes as written, the status line and body of the answer.</summary>
    private static async Task<string> Raw(TestServer server, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // Kestrel closes the connection after an answer to a request whose body it could not read, or one that asked
        // for it (Connection: close), so the answer is everything up to the end of the stream.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await reader.ReadToEndAsync(timeout.Token);
    }

    [Fact]
    public async Task A_malformed_chunk_size_is_a_400_and_an_unknown_transfer_coding_a_501()
    {
        await using var server = await TestServer.StartAsync();
        string chunk = await Raw(server, $"POST {Predict} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nab\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400", chunk);
        Assert.Contains("the body could not be read", chunk);

        string gzip = await Raw(server, $"POST {Predict} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/png\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 501", gzip);
        Assert.Contains("Transfer-Encoding is 'gzip, chunked'; expected chunked or none", gzip);
    }

    [Fact]
    public async Task Json_pixels_without_ink_get_the_422_a_blank_image_gets()
    {
        await using var server = await TestServer.StartAsync();
        var blank = await server.PostAsync(Predict, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { pixels = new float[784] })), "application/json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, blank.StatusCode);
        Assert.StartsWith("image 0: no ink found: every pixel is within 0..0", await Detail(blank));
        var grey = await server.PostAsync(Predict, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { pixels = Enumerable.Repeat(0.5f, 784) })), "application/json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, grey.StatusCode);
    }

    [Fact]
    public async Task The_smaller_findings_are_answered_as_they_should_be()
    {
        await using var server = await TestServer.StartAsync();
        string pixels = JsonSerializer.Serialize(new { pixels = Digits.Floats(3, 1) });

        // A UTF-8 byte order mark before the JSON is ignored.
        var bom = await server.PostAsync(Predict, [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(pixels)], "application/json");
        Assert.Equal(HttpStatusCode.OK, bom.StatusCode);

        // A key given twice is refused, not read last-wins.
        var twice = await server.PostAsync(Predict, Encoding.UTF8.GetBytes(pixels[..^1] + ",\"pixels\":[1]}"), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("pixels", await Detail(twice));

        var layers = await server.PostAsync(FeatureMaps + "?layers=conv1,conv1", Digits.Png28(0), "image/png");
        Assert.Equal(HttpStatusCode.BadRequest, layers.StatusCode);
        Assert.Equal("layers names conv1 2 times; expected each layer once", await Detail(layers));

        var top = await server.PostAsync(Predict + "?top=abc", Digits.Png28(0), "image/png");
        Assert.Equal(HttpStatusCode.BadRequest, top.StatusCode);
        Assert.Equal("top is 'abc'; expected a whole number 1..10", await Detail(top));

        var gif = await server.PostAsync(Predict, [.. "GIF89a"u8.ToArray(), 1, 0, 1, 0, 0, 0, 0], "image/png");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, gif.StatusCode);
        Assert.Equal("the request body was sent as image/png but its bytes are image/gif; expected image/png, image/jpeg, image/webp, image/bmp, sent as what it is", await Detail(gif));

        // A name with a right-to-left override and an escape character is echoed escaped.
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent([1, 2, 3]);
        file.Headers.ContentType = new("image/png");
        form.Add(file, "file", "photo\u202egnp.exe\u001b[31m");
        var named = await server.Client.PostAsync(Predict, form);
        string detail = await Detail(named);
        Assert.Contains("photo\\u202egnp.exe\\x1b[31m", detail);
        Assert.DoesNotContain('\u202e', detail);
    }
}
