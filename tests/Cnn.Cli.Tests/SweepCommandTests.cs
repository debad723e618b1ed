using System.Globalization;
using System.Text.Json;
using Cnn.Tests;

namespace Cnn.Cli.Tests;

public sealed class SweepCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_two_by_two_sweep_writes_one_row_per_run_and_a_second_call_skips_them()
    {
        string data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 240, testCount: 60);
        string sweep = _dir.Combine("sweep");
        string[] args = ["sweep", "lenet", "--data", data, "--lr", "1e-3,3e-3", "--width", "0.5,1", "--epochs", "1", "--threads", "1", "--out", sweep];

        var (code, output) = Cli.Run(args);

        Assert.True(code == 0, output);
        Assert.Contains("sweep lenet on digits: 4 runs", output);
        Assert.Contains("[4/4] lr 0.003 width 1 seed 1: test", output);
        var lines = File.ReadAllLines(Path.Combine(sweep, "sweep.csv"));
        Assert.Equal("lr,width,seed,parameters,epochs_run,stopped_early,best_epoch,best_val_loss,test_accuracy,train_seconds,run", lines[0]);
        Assert.Equal(5, lines.Length);
        foreach (var row in lines.Skip(1).Select(l => l.Split(',')))
        {
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(sweep, row[10], "summary.json")));
            Assert.Equal(summary.RootElement.GetProperty("test_accuracy").GetDouble(), double.Parse(row[8], CultureInfo.InvariantCulture));
            Assert.Equal(summary.RootElement.GetProperty("parameters").GetInt64(), long.Parse(row[3], CultureInfo.InvariantCulture));
        }

        Assert.Equal(["0.001", "0.001", "0.003", "0.003"], lines.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal(["0.5", "1", "0.5", "1"], lines.Skip(1).Select(l => l.Split(',')[1]));
        // Width 0.5 has fewer parameters than width 1.
        Assert.True(long.Parse(lines[1].Split(',')[3], CultureInfo.InvariantCulture) < long.Parse(lines[2].Split(',')[3], CultureInfo.InvariantCulture));
        Assert.Contains("| 0.001 | 0.5 | 1 |", File.ReadAllText(Path.Combine(sweep, "sweep.md")));
        foreach (var plot in new[] { "accuracy_vs_lr.png", "accuracy_vs_parameters.png", "val_loss_curves.png", "epochs_vs_lr.png" })
        {
            using var bitmap = SkiaSharp.SKBitmap.Decode(Path.Combine(sweep, plot));
            Assert.Equal((640, 420), (bitmap.Width, bitmap.Height));
            // Lines and markers in the palette's colours, not just white paper and black axes.
            Assert.Contains(bitmap.Pixels, p => p.Red != p.Green || p.Green != p.Blue);
        }

        var stamp = File.GetLastWriteTimeUtc(Path.Combine(sweep, "lr0.001-w0.5-s1", "model.pt"));
        var again = Cli.Run(args);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(4, again.Output.Split('\n').Count(l => l.Contains("(done before, skipped)")));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(sweep, "lr0.001-w0.5-s1", "model.pt")));
        Assert.Equal(lines, File.ReadAllLines(Path.Combine(sweep, "sweep.csv")));
    }

    [Fact]
    public void Bad_lists_are_named()
    {
        var (code, output) = Cli.Run("sweep", "lenet", "--lr", "1e-3,fast");
        Assert.NotEqual(0, code);
        Assert.Contains("--lr is '1e-3,fast'; expected comma-separated numbers such as 1e-3,3e-3", output);
        var model = Cli.Run("sweep", "resnet");
        Assert.Contains("model is 'resnet'; expected lenet or cifar", model.Output);
    }

    [Fact]
    public void A_label_set_for_a_data_set_without_one_is_refused_as_cnn_train_refuses_it()
    {
        var (code, output) = Cli.Run("sweep", "lenet", "--labels", "fine", "--out", _dir.Combine("never"));
        Assert.Equal(2, code);
        Assert.Contains("--labels is given for digits; it chooses CIFAR-100's label set, so expected it only with --dataset cifar100", output);
        Assert.False(Directory.Exists(_dir.Combine("never")));
    }
}
