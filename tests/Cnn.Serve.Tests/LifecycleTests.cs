using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Cnn.Contracts;
using Cnn.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Cnn.Serve.Tests;

/// <summary>Limits, hot reload and shutdown: servers of their own, since these tests change them.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Slow_uploads_take_no_inference_slot_and_a_fast_request_is_answered_meanwhile()
    {
        // Admission is taken once a body has arrived: uploads stalled mid-body hold only their own connections.
        await using var server = await TestServer.StartAsync(o => o with { MaxConcurrency = 1 });
        var png = Digits.Png28(0);
        var bodies = Enumerable.Range(0, Environment.ProcessorCount + 2).Select(_ => new HeldBody(png)).ToList();
        var held = bodies.Select(body => server.Client.PostAsync(Predict, body)).ToList();
        await Task.WhenAll(bodies.Select(b => b.Started));
        await Poll.Until(async () => InProgress(await server.Client.GetStringAsync("/metrics")) >= bodies.Count);

        var fast = await server.PostAsync(Predict, png, "image/png");

        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
        // One at a time: released together, more than --max-concurrency of them would arrive at once.
        for (int i = 0; i < bodies.Count; i++)
        {
            bodies[i].Release();
            Assert.Equal(HttpStatusCode.OK, (await held[i]).StatusCode);
        }
    }

    [Fact]
    public async Task Past_the_configured_limit_requests_get_503_with_retry_after_and_are_answered_once_there_is_room()
    {
        // The admitted places are taken here directly, as running inference would hold them; the next request is refused at once.
        await using var server = await TestServer.StartAsync(o => o with { MaxConcurrency = 2 });
        var gate = server.Services.GetRequiredService<InferenceGate>();
        var places = new[] { await gate.EnterAsync(default), await gate.EnterAsync(default) };
        var png = Digits.Png28(0);

        var busy = await server.PostAsync(Predict, png, "image/png");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Equal("1", busy.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", busy.Content.Headers.ContentType?.MediaType);
        Assert.Contains("2 inference requests are already admitted (--max-concurrency)", await busy.Content.ReadAsStringAsync());
        Assert.Contains("http_requests_received_total{code=\"503\"", await server.Client.GetStringAsync("/metrics"));
        Array.ForEach(places, p => p.Dispose());
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync(Predict, png, "image/png")).StatusCode);
        Assert.Equal("ready", await server.Client.GetStringAsync("/readyz"));
    }

    private const string Predict = "/v1/models/lenet5-mnist/predict";

    /// <summary>Requests to predict in progress, from prometheus-net's gauge.</summary>
    private static int InProgress(string metrics) => System.Text.RegularExpressions.Regex.Matches(metrics, @"^http_requests_in_progress\{.*endpoint=""[^""]*/predict""\} (\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline)
        .Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A PNG body whose bytes are held back after the first until <see cref="Release"/>: a stalled upload.</summary>
    private sealed class HeldBody : HttpContent
    {
        private readonly byte[] _bytes;
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HeldBody(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new("image/png");
        }

        public Task Started => _started.Task;

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_bytes.AsMemory(0, 1));
            await stream.FlushAsync();
            _started.TrySetResult();
            await _release.Task;
            await stream.WriteAsync(_bytes.AsMemory(1));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return true;
        }
    }

    [Fact]
    public async Task A_replaced_model_is_swapped_in_and_a_broken_one_leaves_the_old_serving()
    {
        await using var server = await TestServer.StartAsync();
        async Task<double> Accuracy() => JsonDocument.Parse(await server.Client.GetStringAsync("/v1/models/lenet5-mnist")).RootElement.GetProperty("test_accuracy").GetDouble();
        var plain = File.ReadAllBytes(server.ModelPath);
        string shipped = OnnxMetadata.Card(plain);
        Assert.Equal(ModelCard.FromJson(shipped, "shipped").TestAccuracy, await Accuracy());

        // A new export of the pair, renamed into place as `cnn export` does (here: the same weights, another card).
        string card = System.Text.RegularExpressions.Regex.Replace(shipped, "\"test_accuracy\":[0-9.]+", "\"test_accuracy\":0.5");
        File.WriteAllBytes(server.ModelPath + ".tmp", OnnxMetadata.Replace(plain, new Dictionary<string, string> { [OnnxMetadata.CardKey] = card }));
        File.Move(server.ModelPath + ".tmp", server.ModelPath, overwrite: true);
        await Poll.Until(async () => await Accuracy() == 0.5);
        var prediction = await server.PostAsync("/v1/models/lenet5-mnist/predict", Digits.Png28(0), "image/png");
        Assert.Equal(HttpStatusCode.OK, prediction.StatusCode);

        File.WriteAllBytes(server.ModelPath + ".tmp", [1, 2, 3]);
        File.Move(server.ModelPath + ".tmp", server.ModelPath, overwrite: true);
        await Poll.Until(async () => (await server.Client.GetStringAsync("/metrics")).Contains("cnn_model_reload_failures_total{model=\"lenet5-mnist\"} 1"));
        Assert.Equal(0.5, await Accuracy());
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/v1/models/lenet5-mnist/predict", Digits.Png28(0), "image/png")).StatusCode);
        Assert.Contains("cnn_model_reloads_total{model=\"lenet5-mnist\"} 1", await server.Client.GetStringAsync("/metrics"));
    }

    [Fact]
    public void A_model_that_cannot_be_loaded_stops_the_process_with_one_line()
    {
        using var dir = new TempFolder();
        string cnn = typeof(LifecycleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CnnCliPath").Value!;
        var (code, output) = ChildProcess.Run("dotnet", dir.Path, cnn, "serve", dir.Combine("missing.onnx"), "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Equal($"error: model file not found: {dir.Combine("missing.onnx")}", output.Trim());
    }

    [Fact]
    public async Task Sigterm_lets_requests_in_flight_finish_and_exits_0()
    {
        using var dir = new TempFolder();
        string cnn = typeof(LifecycleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CnnCliPath").Value!;
        using var process = ChildProcess.Start("dotnet", dir.Path, [cnn, "serve", Repository.ModelPath, "--urls", "http://127.0.0.1:0"]);
        string? url = null;
        var log = new System.Text.StringBuilder();
        while (url == null && await process.StandardOutput.ReadLineAsync() is { } line)
        {
            log.AppendLine(line);
            url = System.Text.RegularExpressions.Regex.Match(line, @"on (http://127\.0\.0\.1:\d+)").Groups[1].Value is { Length: > 0 } u ? u : null;
        }

        Assert.True(url != null, log.ToString());
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var body = new ByteArrayContent(Digits.Drawing(5, 2000, 1600, 200, 200, 40, noisyGrey: true));
        body.Headers.ContentType = new("image/png");
        var clock = Stopwatch.StartNew();
        async Task<(HttpStatusCode Status, TimeSpan At)> Request()
        {
            var response = await client.PostAsync("/v1/models/lenet5-mnist/featuremaps", body);
            return (response.StatusCode, clock.Elapsed);
        }

        var inFlight = Enumerable.Range(0, 8).Select(_ => Request()).ToList();
        // The signal goes once the server is answering some of them: its own gauge of requests in progress says so.
        await Poll.Until(async () => System.Text.RegularExpressions.Regex.IsMatch(
            await client.GetStringAsync("/metrics"), @"(?m)^http_requests_in_progress\{.*endpoint=""[^""]*/featuremaps""\} [1-9]"));
        var killedAt = clock.Elapsed;
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        var answers = await Task.WhenAll(inFlight);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), "cnn serve did not exit after SIGTERM");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        // Some were still being answered when the signal came: shutdown waited for them.
        Assert.Contains(answers, a => a.At > killedAt);
        Assert.Equal(0, process.ExitCode);
        Assert.True(clock.Elapsed - killedAt < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed - killedAt}");
    }
}
