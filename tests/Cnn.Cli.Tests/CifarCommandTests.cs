using System.Text.Json;
using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Cli.Tests;

/// <summary>`cnn train cifar` → `cnn export` → `cnn verify` → `cnn predict` / `cnn featuremaps` on a colour image.</summary>
public sealed class CifarCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_cifar_run_trains_exports_verifies_and_predicts_colour_images()
    {
        string data = SyntheticCifar.Write(_dir.Combine("data"), 400, 60);
        string run = _dir.Combine("run");
        var train = Cli.Run("train", "cifar", "--data", data, "--epochs", "4", "--lr", "0.003", "--batch-size", "32",
            "--width", "0.5", "--threads", "1", "--out", run);
        Assert.True(train.ExitCode == 0, train.Output);
        Assert.Contains("cifar_coarse_net on cifar100 (360 train / 40 val / 60 test)", train.Output);

        Assert.Equal(0, Cli.Run("export", run).ExitCode);
        var verify = Cli.Run("verify", Path.Combine(run, "model.onnx"), "--run", run);
        Assert.True(verify.ExitCode == 0, verify.Output);

        // A 64×48 picture in class 0's colour (pure red in the generator), which the model gets resized to 32×32.
        using var surface = SKSurface.Create(new SKImageInfo(64, 48));
        surface.Canvas.Clear(new SKColor(200, 20, 20));
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        string picture = _dir.Combine("red.png");
        File.WriteAllBytes(picture, png.ToArray());

        var predict = Cli.Run("predict", Path.Combine(run, "model.onnx"), picture, "--json");
        Assert.True(predict.ExitCode == 0, predict.Output);
        using var json = JsonDocument.Parse(predict.Output);
        Assert.Equal("aquatic_mammals", json.RootElement[0].GetProperty("label").GetString());

        var maps = Cli.Run("featuremaps", Path.Combine(run, "model.onnx"), picture, "--layers", "conv1,pool2", "--out", _dir.Combine("maps"));
        Assert.True(maps.ExitCode == 0, maps.Output);
        Assert.Contains("conv1  [16, 32, 32]", maps.Output);
        Assert.Contains("pool2  [32, 8, 8]", maps.Output);
    }
}
