using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Cli.Tests;

public sealed class ReportCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertPicture(string path, int minWidth, int minHeight)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width >= minWidth && bitmap.Height >= minHeight, $"{path}: {bitmap.Width}×{bitmap.Height}");
        Assert.True(bitmap.Pixels.Distinct().Take(20).Count() == 20, $"{path} is (nearly) blank");
    }

    [Fact]
    public void Training_writes_the_run_figures_and_report_gathers_them_with_feature_maps_and_a_sheet()
    {
        string data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 300, testCount: 80);
        string run = _dir.Combine("run");
        var train = Cli.Run("train", "lenet", "--data", data, "--epochs", "2", "--threads", "1", "--out", run);
        Assert.True(train.ExitCode == 0, train.Output);
        Assert.Contains("figures: curves.png, confusion.png, mistakes.png, calibration.png, architecture.svg, architecture.png", train.Output);
        AssertPicture(Path.Combine(run, "curves.png"), 1280, 420);
        AssertPicture(Path.Combine(run, "confusion.png"), 400, 400);
        AssertPicture(Path.Combine(run, "mistakes.png"), 400, 100);
        AssertPicture(Path.Combine(run, "calibration.png"), 640, 420);
        AssertPicture(Path.Combine(run, "architecture.png"), 800, 200);

        // The architecture figure names every layer with its output shape and parameter count.
        string svg = File.ReadAllText(Path.Combine(run, "architecture.svg"));
        foreach (var (layer, shape, parameters) in new[]
        {
            ("conv1", "[6×28×28]", "156 params"), ("pool1", "[6×14×14]", "no parameters"), ("conv2", "[16×10×10]", "2,416 params"),
            ("pool2", "[16×5×5]", "no parameters"), ("flatten", "[400]", "no parameters"), ("fc1", "[120]", "48,120 params"),
            ("fc2", "[84]", "10,164 params"), ("fc3", "[10]", "850 params"),
        })
        {
            Assert.Matches($">{layer}</text>.*?>{System.Text.RegularExpressions.Regex.Escape(shape)}</text><text[^>]*>{parameters}</text>", svg);
        }

        string drawing = Path.Combine(_dir.Path, "seven.png");
        File.Copy(Path.Combine(Repository.Root, "bench", "seven.png"), drawing);
        var report = Cli.Run("report", run, "--image", drawing);
        Assert.True(report.ExitCode == 0, report.Output);
        string md = File.ReadAllText(Path.Combine(run, "report.md"));
        foreach (var figure in new[] { "curves.png", "confusion.png", "mistakes.png", "calibration.png", "architecture.png", "architecture.svg", "report-featuremaps/conv1.png", "report-featuremaps/pool2.png", "report-featuremaps/input.png", "predictions.png" })
        {
            Assert.Contains($"]({figure})", md);
            Assert.True(File.Exists(Path.Combine(run, figure)), figure);
        }

        Assert.Contains("| test accuracy |", md);
        AssertPicture(Path.Combine(run, "report-featuremaps", "conv2.png"), 300, 200);
        AssertPicture(Path.Combine(run, "predictions.png"), 300, 100);
        // The report exported the run to read its maps, and left no export behind in the run folder.
        Assert.False(File.Exists(Path.Combine(run, "model.onnx")));
        Assert.False(File.Exists(Path.Combine(run, "model.features.onnx")));

        // Without an image of the caller's, the maps are the test split's first image's, whatever its label.
        var plain = Cli.Run("report", run);
        Assert.True(plain.ExitCode == 0, plain.Output);
        Assert.Contains("test image 0 (label ", File.ReadAllText(Path.Combine(run, "report.md")));
    }
}
