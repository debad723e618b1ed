using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using Cnn.Tests;

namespace Cnn.Packaging.Tests;

/// <summary>The packages as NuGet sees them, one pack shared by the tests.</summary>
public sealed class PackedFeed : IDisposable
{
    private readonly TempFolder _dir = new();

    public PackedFeed()
    {
        // A version of its own, so NuGet's cache never serves an earlier pack of the same number.
        Version = $"0.2.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        string configuration = typeof(PackedFeed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;
        foreach (var target in new[] { "Cnn.sln", "src/Cnn.Inference.Gpu" })
        {
            // The solution was just built by the test command; the GPU meta-package is not in it (it would make every
            // restore fetch 540 MB of CUDA natives) and has no code, so it is restored and packed here.
            string[] build = target.EndsWith(".sln", StringComparison.Ordinal) ? ["--no-build"] : ["-p:BuildProjectReferences=false"];
            var (code, output) = ChildProcess.Run("dotnet", Repository.Root, ["pack", target, "-c", configuration, .. build, "-o", Folder, $"-p:Version={Version}"]);
            Assert.True(code == 0, output);
        }
    }

    public string Folder => _dir.Combine("feed");

    public string Version { get; }

    public string Temp(string name) => _dir.Combine(name);

    /// <summary>The package's files and its nuspec's dependencies (id → version).</summary>
    public (IReadOnlyList<string> Files, IReadOnlyDictionary<string, string> Dependencies, XElement Metadata) Open(string id)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(Folder, $"{id}.{Version}.nupkg"));
        var files = zip.Entries.Select(e => e.FullName).ToList();
        using var nuspec = zip.GetEntry($"{id}.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Elements().First(e => e.Name.LocalName == "metadata");
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
        return (files, dependencies, metadata);
    }

    public void Dispose() => _dir.Dispose();
}

public sealed class PackageTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    private static string? Element(XElement metadata, string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    [Fact]
    public void Cnn_inference_depends_on_onnx_runtimes_managed_api_and_what_its_own_api_needs_only()
    {
        var (files, dependencies, metadata) = feed.Open("Cnn.Inference");
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Cnn.Contracts"] = feed.Version,
                ["Microsoft.ML.OnnxRuntime.Managed"] = "1.31.1",
                ["SkiaSharp"] = "2.88.9",
                ["SkiaSharp.NativeAssets.Linux.NoDependencies"] = "2.88.9",
            },
            dependencies);
        Assert.Contains("lib/net10.0/Cnn.Inference.dll", files);
        Assert.Contains("lib/net10.0/Cnn.Inference.xml", files);
        Assert.Contains("README.md", files);
        Assert.Equal("README.md", Element(metadata, "readme"));
        Assert.Equal("MIT", Element(metadata, "license"));
        Assert.Equal("cnn contributors", Element(metadata, "authors"));
    }

    [Fact]
    public void The_contract_has_no_dependencies_and_the_flavours_add_one_native_package_each()
    {
        var contracts = feed.Open("Cnn.Contracts");
        Assert.Empty(contracts.Dependencies);
        Assert.Contains("lib/net10.0/Cnn.Contracts.xml", contracts.Files);

        var cpu = feed.Open("Cnn.Inference.Cpu");
        Assert.Equal(new Dictionary<string, string> { ["Cnn.Inference"] = feed.Version, ["Microsoft.ML.OnnxRuntime"] = "1.31.1" }, cpu.Dependencies);
        var gpu = feed.Open("Cnn.Inference.Gpu");
        Assert.Equal(new Dictionary<string, string> { ["Cnn.Inference"] = feed.Version, ["Microsoft.ML.OnnxRuntime.Gpu.Linux"] = "1.31.0" }, gpu.Dependencies);
        Assert.DoesNotContain(cpu.Files.Concat(gpu.Files), f => f.StartsWith("lib/", StringComparison.Ordinal));

        var mlnet = feed.Open("Cnn.Inference.MLNet");
        Assert.Equal(["Cnn.Inference", "Microsoft.ML", "Microsoft.ML.ImageAnalytics", "Microsoft.ML.OnnxTransformer"], mlnet.Dependencies.Keys.Order());
    }

    [Fact]
    public void The_sample_app_builds_against_the_packages_and_reads_a_digit()
    {
        string sample = Path.Combine(Repository.Root, "samples", "DigitReader");
        string output = feed.Temp("sample");
        var build = ChildProcess.Run("dotnet", sample, "build", "-o", output, $"-p:CnnInferenceVersion={feed.Version}", $"-p:RestoreAdditionalProjectSources={feed.Folder}");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("Cnn.Inference.dll", Directory.GetFiles(output).Select(Path.GetFileName));
        Assert.DoesNotContain(Directory.GetFiles(output, "*", SearchOption.AllDirectories), f => f.Contains("torch", StringComparison.OrdinalIgnoreCase));

        var run = ChildProcess.Run("dotnet", Repository.Root, Path.Combine(output, "DigitReader.dll"), Repository.ModelPath, Path.Combine(Repository.Root, "bench", "seven.png"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.StartsWith("seven.png: 7 (", run.Output);
        Assert.Contains("conv1: 6 maps of 28×28", run.Output);
    }

    [Fact]
    public void The_cnn_tool_installs_from_the_feed_and_trains()
    {
        string tools = feed.Temp("tools");
        var install = ChildProcess.Run("dotnet", Repository.Root, "tool", "install", "cnn", "--tool-path", tools, "--add-source", feed.Folder, "--version", feed.Version);
        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Contains("Tool 'cnn'", install.Output);

        string run = feed.Temp("tool-run");
        var train = ChildProcess.Run(Path.Combine(tools, "cnn"), feed.Temp(""), "train", "lenet", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.True(train.ExitCode == 0, train.Output);
        Assert.Contains("test accuracy", train.Output);
        Assert.True(File.Exists(Path.Combine(run, "model.pt")));
    }
}
