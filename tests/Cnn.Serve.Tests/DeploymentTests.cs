using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Cnn.Inference;
using Cnn.Tests;

namespace Cnn.Serve.Tests;

/// <summary>
/// The container image (deploy/Containerfile, built by deploy/build-image.sh on a base of this machine's glibc) and
/// the Kubernetes manifests (deploy/k8s). Each test needs a tool the SDK does not bring — podman, node — and is
/// skipped, saying which, where it is missing.
/// </summary>
[Collection(nameof(DeploymentTests))]
public sealed class DeploymentTests(ContainerImage image) : IClassFixture<ContainerImage>
{
    [PodmanFact]
    public async Task The_image_serves_read_only_without_capabilities_answers_as_cnn_predict_and_stops_cleanly()
    {
        Assert.True(image.Built, image.BuildLog);
        // The serve-only host: ONNX Runtime, no TorchSharp or libtorch, and no Windows natives on Linux.
        var shipped = Directory.GetFiles(Path.Combine(Repository.Root, "artifacts", "container", "app")).Select(Path.GetFileName).ToArray();
        Assert.Contains("libonnxruntime.so", shipped);
        Assert.DoesNotContain(shipped, f => f!.Contains("torch", StringComparison.OrdinalIgnoreCase) || (f.EndsWith(".dll", StringComparison.Ordinal) && f.StartsWith("onnxruntime", StringComparison.Ordinal)));
        int port = FreePort.Next();
        string name = $"cnn-serve-test-{port}";
        var started = Stopwatch.StartNew();
        var run = Podman.Run("run", "-d", "--name", name, "--read-only", "--cap-drop=ALL", "-p", $"127.0.0.1:{port}:8080", ContainerImage.Tag);
        Assert.True(run.ExitCode == 0, run.Output);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.True(await ReadyWithin(client, TimeSpan.FromSeconds(5)), $"/readyz not 200 within 5 s of podman run; logs:\n{Podman.Run("logs", name).Output}");
            var ready = started.Elapsed;

            // What `cnn predict --json` writes for the file: the same DTO from the same library calls.
            string digit = Path.Combine(Repository.Root, "bench", "seven.png");
            using var model = CnnModel.Load(Repository.ExplorerModelPath);
            var expected = PredictionDto.From(model.PredictImage(digit), 3);
            using var body = new ByteArrayContent(File.ReadAllBytes(digit));
            body.Headers.ContentType = new("image/png");
            var response = await client.PostAsync($"/v1/models/{Repository.ExplorerModel}/predict", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), ServeJson.Api.PredictionDto)!;
            Assert.Equal(expected.Label, answer.Label);
            Assert.Equal(expected.Top.Select(t => t.Label), answer.Top.Select(t => t.Label));
            // Same ONNX Runtime and preprocessing; the server runs 1 thread per call, which may order sums differently.
            Assert.All(expected.Top.Zip(answer.Top), p => Assert.Equal(p.First.Probability, p.Second.Probability, 1e-5f));
            Assert.True(ready < TimeSpan.FromSeconds(5), $"ready after {ready.TotalSeconds:F2} s");
        }
        finally
        {
            var stop = Podman.Run("stop", "-t", "20", name);
            var exit = Podman.Run("inspect", name, "--format", "{{.State.ExitCode}}");
            var logs = Podman.Run("logs", name).Output;
            Podman.Run("rm", "-f", name);
            Assert.True(stop.ExitCode == 0, stop.Output);
            Assert.True(exit.Output.Trim() == "0", $"exit code {exit.Output.Trim()} after podman stop; logs:\n{logs}");
            Assert.Contains("draining", logs);
            // No telemetry: ONNX Runtime logs its uploader's start ("telemetry_1ds") unless it is opted out before it starts.
            Assert.DoesNotContain("telemetry", logs, StringComparison.OrdinalIgnoreCase);
        }
    }

    [PodmanFact]
    public async Task The_Deployment_runs_under_podman_kube_play_with_its_probe_endpoints_answering()
    {
        Assert.True(image.Built, image.BuildLog);
        using var dir = new TempFolder();
        int port = FreePort.Next();
        // One replica on a free host port, under a name of its own; everything else as shipped.
        string manifest = File.ReadAllText(Path.Combine(Repository.Root, "deploy", "k8s", "deployment.yaml"))
            .Replace("replicas: 2", "replicas: 1")
            .Replace("name: cnn-serve\n  labels", "name: cnn-serve-kube-test\n  labels")
            .Replace("image: localhost/cnn-serve:latest", $"image: {ContainerImage.Tag}")
            .Replace("containerPort: 8080", $"containerPort: 8080\n              hostPort: {port}");
        string file = dir.Combine("deployment.yaml");
        File.WriteAllText(file, manifest);
        var play = Podman.Run("kube", "play", file);
        try
        {
            Assert.True(play.ExitCode == 0, play.Output);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            // podman kube play starts the pod but does not act on probes: check the endpoints they name.
            Assert.True(await ReadyWithin(client, TimeSpan.FromSeconds(10)), "/readyz never answered 200");
            Assert.Equal("ok", await client.GetStringAsync("/healthz"));
            string container = Podman.Run("ps", "--filter", "pod=cnn-serve-kube-test-pod-0", "--format", "{{.Names}}").Output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Single(n => !n.EndsWith("-infra", StringComparison.Ordinal));
            var settings = Podman.Run("inspect", container, "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}}").Output.Trim();
            Assert.StartsWith("10001", settings);
            Assert.Contains(" true ", settings);
        }
        finally
        {
            Podman.Run("kube", "down", file);
        }
    }

    [NodeFact]
    public void The_manifests_are_valid_Kubernetes_objects()
    {
        var folder = Path.Combine(Repository.Root, "deploy", "k8s");
        var files = Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal).ToArray();
        var result = Node.Validate(files);
        Assert.True(result.ExitCode == 0, result.Output);
        foreach (var kind in new[] { "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget" })
        {
            Assert.Contains($"{kind} cnn-serve valid", result.Output);
        }

        // The check itself refuses a wrong manifest, naming the field.
        using var dir = new TempFolder();
        string broken = dir.Combine("broken.yaml");
        File.WriteAllText(broken, File.ReadAllText(Path.Combine(folder, "deployment.yaml")).Replace("containerPort: 8080", "containerPort: eighty"));
        var refused = Node.Validate([broken]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("containerPort must be integer", refused.Output);
    }

    private static async Task<bool> ReadyWithin(HttpClient client, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            try
            {
                if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        return false;
    }
}

/// <summary>
/// The container tests publish the server and build an image (CPU-heavy for a minute): they run on their own, after
/// this assembly's other tests, so the timings those assert (a SIGTERM drain, page latency) are not theirs to share.
/// </summary>
[CollectionDefinition(nameof(DeploymentTests), DisableParallelization = true)]
public sealed class DeploymentCollection;

/// <summary>The image under test, built once for the class by deploy/build-image.sh on the local glibc base.</summary>
public sealed class ContainerImage : IDisposable
{
    public const string Tag = "localhost/cnn-serve:test";

    public ContainerImage()
    {
        if (!Podman.Available)
        {
            return;
        }

        var build = ChildProcess.Run("bash", Repository.Root, Path.Combine(Repository.Root, "deploy", "build-image.sh"), "--local-base", "--tag", Tag);
        Built = build.ExitCode == 0;
        BuildLog = build.Output;
    }

    public bool Built { get; }

    public string BuildLog { get; } = "";

    public void Dispose()
    {
        if (Built)
        {
            Podman.Run("rmi", "-f", Tag);
        }
    }
}

/// <summary>podman with this project's containers.conf (deploy/podman-env.sh: runc and ulimits this kernel accepts).</summary>
internal static class Podman
{
    public static bool Available { get; } = OperatingSystem.IsLinux() && Executable.OnPath("podman");

    public static (int ExitCode, string Output) Run(params string[] args) =>
        ChildProcess.Run("bash", Repository.Root, ["-c", "source deploy/podman-env.sh && exec podman \"$@\"", "podman", .. args]);
}

/// <summary>node with kubernetes-models 5.1.0 and yaml, which build/test-prerequisites.sh installs into artifacts/node when npm is there.</summary>
internal static class Node
{
    public static string Modules { get; } = Path.Combine(Repository.Root, "artifacts", "node", "node_modules");

    public static bool Available { get; } = Executable.OnPath("node") && File.Exists(Path.Combine(Modules, "kubernetes-models", "package.json"))
        && File.Exists(Path.Combine(Modules, "yaml", "package.json"));

    public static (int ExitCode, string Output) Validate(IEnumerable<string> files) =>
        ChildProcess.Run("bash", Repository.Root, ["-c", "NODE_PATH=\"$0\" exec node deploy/k8s/validate.mjs \"$@\"", Modules, .. files]);
}

internal static class Executable
{
    public static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, name)));
}

/// <summary>A test that needs podman; skipped, saying so, where it is not installed.</summary>
public sealed class PodmanFactAttribute : FactAttribute
{
    public PodmanFactAttribute()
    {
        if (!Podman.Available)
        {
            Skip = "podman is not installed (Debian: apt-get install podman runc); the container tests need it";
        }
    }
}

/// <summary>A test that needs node and the npm packages the manifest check uses; skipped, saying so, without them.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (!Node.Available)
        {
            Skip = $"node with kubernetes-models 5.1.0 and yaml in {Node.Modules} is missing (build/test-prerequisites.sh installs them when npm is present)";
        }
    }
}
