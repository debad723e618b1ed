using System.Diagnostics;
using Cnn.Cli.Commands;
using Cnn.Tests;
using Cnn.Train.Training;

namespace Cnn.Cli.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();
    private readonly string _data;

    public TrainCommandTests()
    {
        _data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 400, testCount: 100);
    }

    public void Dispose() => _dir.Dispose();

    private string[] Train(string outDir, params string[] extra) =>
        ["train", "lenet", "--data", _data, "--threads", "1", "--seed", "3", "--out", outDir, .. extra];

    [Fact]
    public void Trains_on_a_data_folder_and_prints_the_test_accuracy()
    {
        var (code, output) = CnnProcess.Run(_dir.Path, Train("run", "--epochs", "2"));

        Assert.True(code == 0, output);
        Assert.Contains("lenet5 on digits (367 train / 33 val / 100 test)", output);
        Assert.Matches(@"epoch +2 +lr ", output);
        Assert.Contains("test accuracy", output);
        var run = new RunFolder(_dir.Combine("run"));
        Assert.Equal(2, run.ReadSummary().EpochsRun);
        Assert.Equal(1, run.ReadConfig().Training.Threads);
    }

    [Fact]
    public void An_existing_run_folder_is_refused_and_left_as_it_was()
    {
        Directory.CreateDirectory(_dir.Combine("taken"));
        File.WriteAllText(_dir.Combine("taken", "config.json"), "{\"mine\": true}");

        var (code, output) = CnnProcess.Run(_dir.Path, Train("taken", "--epochs", "1"));

        Assert.Equal(1, code);
        Assert.Contains($"{_dir.Combine("taken")} already holds a run (config.json); continue it with --resume", output);
        Assert.Equal("{\"mine\": true}", File.ReadAllText(_dir.Combine("taken", "config.json")));
    }

    [Fact]
    public void A_corrupt_idx_file_is_named_in_the_error()
    {
        File.WriteAllBytes(Path.Combine(_data, "t10k-labels-idx1-ubyte.gz"), SyntheticMnist.Gzip(SyntheticMnist.LabelsBytes([1, 2])));

        var (code, output) = CnnProcess.Run(_dir.Path, Train("bad", "--epochs", "1"));

        Assert.Equal(1, code);
        Assert.Contains($"error: {Path.Combine(_data, "t10k-labels-idx1-ubyte.gz")}: 2 labels, but", output);
        Assert.Contains("has 100 images; expected the same count", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void Bad_option_values_are_reported_with_actual_and_expected()
    {
        var (code, output) = CnnProcess.Run(_dir.Path, Train("x", "--epochs", "0"));
        Assert.NotEqual(0, code);
        Assert.Contains("--epochs is 0; expected ≥ 1", output);
        Assert.False(Directory.Exists(_dir.Combine("x")));
    }

    [Fact]
    public void Help_lists_the_options_with_their_defaults()
    {
        var (code, output) = CnnProcess.Run(_dir.Path, "train", "lenet", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--dataset", "--data", "--epochs", "--lr", "--batch-size", "--patience", "--scheduler", "--width", "--seed", "--threads", "--device", "--out", "--resume", "--augment", "--no-augment" })
        {
            Assert.Contains(option, output);
        }

        Assert.Contains("Default: 30 for digits, 15 for mnist and fashion-mnist; cifar: 30", output);
    }

    [Fact]
    public async Task Ctrl_c_keeps_the_last_checkpoint_and_resume_ends_like_an_uninterrupted_run()
    {
        string[] options = ["--epochs", "25", "--patience", "0", "--scheduler", "cosine"];
        var (code, output) = CnnProcess.Run(_dir.Path, Train("whole", options));
        Assert.True(code == 0, output);

        using (var process = CnnProcess.Start(_dir.Path, Train("part", options)))
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            string checkpoint = _dir.Combine("part", RunFolder.CheckpointFile);
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                Thread.Sleep(20);
            }

            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)));
            string printed = await stdout;
            Assert.True(process.ExitCode == 130, printed);
            Assert.Contains("Interrupted.", printed);
            Assert.Contains("Continue with: cnn train lenet --resume", printed);
        }

        Assert.False(File.Exists(_dir.Combine("part", RunFolder.SummaryFile)));
        var (resumeCode, resumeOutput) = CnnProcess.Run(_dir.Path, "train", "lenet", "--resume", _dir.Combine("part"));
        Assert.True(resumeCode == 0, resumeOutput);
        Assert.Contains("resuming after epoch", resumeOutput);

        Assert.Equal(File.ReadAllBytes(_dir.Combine("whole", RunFolder.WeightsFile)), File.ReadAllBytes(_dir.Combine("part", RunFolder.WeightsFile)));
        Assert.Equal(new RunFolder(_dir.Combine("whole")).ReadSummary().TestAccuracy, new RunFolder(_dir.Combine("part")).ReadSummary().TestAccuracy);
    }
}

public class TrainSettingsTests
{
    [Theory]
    [InlineData("--lr", "-1", "--lr is -1; expected a positive number")]
    [InlineData("--width", "0", "--width is 0; expected a positive number (1 = 6 and 16 maps)")]
    [InlineData("--scheduler", "linear", "--scheduler is 'linear'; expected none, step, cosine, plateau or onecycle")]
    [InlineData("--device", "tpu", "--device is 'tpu'; expected auto, cpu or cuda")]
    [InlineData("--dataset", "cifar", "--dataset is 'cifar'; expected digits, mnist or fashion-mnist")]
    [InlineData("--val-fraction", "1.5", "--val-fraction is 1.5; expected between 0 and 1")]
    public void Validation_messages_name_actual_and_expected(string option, string value, string message)
    {
        var settings = option switch
        {
            "--lr" => new TrainLeNetSettings { LearningRate = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "--width" => new TrainLeNetSettings { Width = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "--scheduler" => new TrainLeNetSettings { Scheduler = value },
            "--device" => new TrainLeNetSettings { Device = value },
            "--dataset" => new TrainLeNetSettings { Dataset = value },
            _ => new TrainLeNetSettings { ValidationFraction = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
        };
        var result = settings.Validate();
        Assert.False(result.Successful);
        Assert.Equal(message, result.Message);
    }

    [Fact]
    public void Unset_options_take_the_data_sets_defaults()
    {
        var defaults = LeNetRecipe.Defaults(Cnn.Train.Data.MnistDataset.FashionMnist);
        var options = new TrainLeNetSettings { Epochs = 3, NoAugment = true, Scheduler = "plateau", Threads = 1 }.ToOptions(defaults);
        Assert.Equal(defaults with { Epochs = 3, Augment = false, Scheduler = SchedulerKind.Plateau, Threads = 1 }, options);
    }
}
