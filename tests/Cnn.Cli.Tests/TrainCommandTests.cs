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
        ["train", "lenet", "--data", _data, "--threads", "1", "--seed", "3", "--out", _dir.Combine(outDir), .. extra];

    [Fact]
    public void Trains_on_a_data_folder_and_prints_the_test_accuracy()
    {
        var (code, output) = Cli.Run(Train("run", "--epochs", "2"));

        Assert.True(code == 0, output);
        Assert.Contains("lenet5 on digits (367 train / 33 val / 100 test)", output);
        Assert.DoesNotContain("error", output);
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

        var (code, output) = Cli.Run(Train("taken", "--epochs", "1"));

        Assert.Equal(1, code);
        Assert.Contains($"{_dir.Combine("taken")} already holds a run (config.json); continue it with --resume", output);
        Assert.Equal("{\"mine\": true}", File.ReadAllText(_dir.Combine("taken", "config.json")));
    }

    [Fact]
    public void A_corrupt_idx_file_is_named_in_the_error()
    {
        File.WriteAllBytes(Path.Combine(_data, "t10k-labels-idx1-ubyte.gz"), SyntheticMnist.Gzip(SyntheticMnist.LabelsBytes([1, 2])));

        var (code, output) = Cli.Run(Train("bad", "--epochs", "1"));

        Assert.Equal(1, code);
        Assert.Contains($"error: {Path.Combine(_data, "t10k-labels-idx1-ubyte.gz")}: 2 labels, but", output);
        Assert.Contains("has 100 images; expected the same count", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void Bad_option_values_are_reported_with_actual_and_expected()
    {
        var (code, output) = Cli.Run(Train("x", "--epochs", "0"));
        Assert.NotEqual(0, code);
        Assert.Contains("--epochs is 0; expected ≥ 1", output);
        Assert.False(Directory.Exists(_dir.Combine("x")));
    }

    [Fact]
    public void Help_lists_the_options_with_their_defaults()
    {
        var (code, output) = Cli.Run("train", "lenet", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--dataset", "--data", "--epochs", "--lr", "--batch-size", "--patience", "--scheduler", "--width", "--seed", "--threads", "--device", "--out", "--resume", "--augment", "--no-augment" })
        {
            Assert.Contains(option, output);
        }

        // Defaults come from the recipes: the most common value, then the data sets that differ.
        Assert.Contains("Maximum epochs. Default: 60 (fashion-mnist: 15, cifar100: 30)", output);
        Assert.Contains("0 = off. Default: 0 (digits: 20, fashion-mnist: 5, cifar100: 8)", output);
        Assert.Contains("the validation split's loss or accuracy. Default: loss (handwriting: accuracy)", output);
        Assert.Contains("Share of the training file held out for validation. Default: 0.08333 (cifar100: 0.1)", output);
        Assert.Contains("Adam learning rate (the peak for onecycle). Default: 0.003 (cifar on cifar100: 0.0005)", output);
        Assert.Contains("Images per batch. Default: 64 (cifar on cifar100: 128)", output);
        Assert.Contains($"Default: {Environment.ProcessorCount}", output);
        // Distillation's defaults are the library's constants, not copies of them.
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        Assert.Contains($"divided by T before the softmax. Default: {Cnn.Train.Training.Distillation.DefaultTemperature.ToString(invariant)}", output);
        Assert.Contains($"cross-entropy with the labels). Default: {Cnn.Train.Training.Distillation.DefaultWeight.ToString(invariant)}", output);
        Assert.Contains("One of: digits (5,000 MNIST digits (a seeded subset), embedded); mnist (", output);
        Assert.Contains("--split-seed <N>", output);
    }

    [Theory]
    [InlineData("--epoch", "1", "unknown option '--epoch'; did you mean --epochs?")]
    [InlineData("--outt", "x", "unknown option '--outt'; did you mean --out?")]
    [InlineData("--seed", "abc", "--seed is 'abc'; expected a whole number")]
    [InlineData("--lr", "fast", "--lr is 'fast'; expected a number such as 0.003 or 3e-3")]
    [InlineData("--lr", "1e308", "--lr is 1E+308; expected a positive number up to 3.4e38")]
    [InlineData("--scheduler", "linear", "--scheduler is 'linear'; expected one of none, step, cosine, plateau, onecycle")]
    [InlineData("--device", "tpu", "--device is 'tpu'; expected one of auto, cpu, cuda")]
    [InlineData("--precision", "fp16", "--precision is 'fp16'; expected one of fp32, bf16")]
    public void Unknown_options_and_unconvertible_values_exit_2_naming_them(string option, string value, string message)
    {
        var result = Cli.Run(Train("typo", option, value));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"error: {message}", result.Stderr.Trim());
        Assert.False(Directory.Exists(_dir.Combine("typo")));
    }

    [Fact]
    public void An_option_of_a_subcommand_given_to_its_parent_is_named_as_misplaced_not_misspelt()
    {
        var result = Cli.Run(["train", "--resume", _dir.Path]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: unknown option '--resume' here: it belongs to another command or subcommand (see --help)", result.Stderr.Trim());
    }

    [Fact]
    public void Every_command_rejects_an_unknown_option()
    {
        foreach (var args in new[]
        {
            new[] { "export", _dir.Path, "--outt", "x.onnx" },
            ["predict", Repository.ModelPath, "x.png", "--jsn"],
            ["featuremaps", Repository.ModelPath, "x.png", "--layer", "conv1"],
            ["verify", "x.onnx", "--run", _dir.Path, "--seeds", "1"],
            ["report", _dir.Path, "--images", "x.png"],
            ["sweep", "lenet", "--lrs", "1e-3"],
        })
        {
            var result = Cli.Run(args);
            Assert.True(result.ExitCode == 2, $"{string.Join(' ', args)}: {result.Output}");
            Assert.StartsWith("error: unknown option", result.Stderr.Trim());
        }
    }

    [Theory]
    [InlineData("train", "lenet")]
    [InlineData("train", "cifar")]
    [InlineData("sweep", "lenet")]
    [InlineData("export")]
    [InlineData("verify")]
    [InlineData("predict")]
    [InlineData("featuremaps")]
    [InlineData("report")]
    [InlineData("serve")]
    public void Every_commands_help_renders(params string[] command)
    {
        // Help text is Spectre markup: a stray bracket in a description breaks it.
        var result = Cli.Run([.. command, "--help"]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("OPTIONS:", result.Output);
        Assert.DoesNotContain("error:", result.Output);
    }

    [Fact]
    public void Resume_refuses_options_it_would_not_apply_and_another_nets_run()
    {
        var (code, output) = Cli.Run(Train("run", "--epochs", "1"));
        Assert.True(code == 0, output);

        var epochs = Cli.Run("train", "lenet", "--resume", _dir.Combine("run"), "--epochs", "5", "--lr", "0.1");
        Assert.Equal(2, epochs.ExitCode);
        Assert.Contains("--resume continues a run with the options saved in its config.json; --epochs, --lr cannot change them (only --threads, --device and --force-bf16 may be given with --resume)", epochs.Stderr);

        var cifar = Cli.Run("train", "cifar", "--resume", _dir.Combine("run"));
        Assert.Equal(1, cifar.ExitCode);
        Assert.Contains($"{_dir.Combine("run")} is a lenet5 run; continue it with cnn train lenet --resume {_dir.Combine("run")}", cifar.Stderr);
    }

    [Fact]
    public void A_bf16_run_says_so_records_it_and_resumes_in_bf16()
    {
        // Forced, so the test runs on CPUs without bfloat16 instructions too (there libtorch emulates them).
        var (code, output) = Cli.Run(Train("bf16", "--epochs", "1", "--precision", "bf16", "--force-bf16"));
        Assert.True(code == 0, output);
        Assert.Matches(@"precision bf16 \((avx|amx|bf16|forced)", output);
        var run = new RunFolder(_dir.Combine("bf16"));
        Assert.Equal(Precision.Bf16, run.ReadConfig().Training.Precision);
        Assert.Contains("\"precision\": \"bf16\"", File.ReadAllText(run.File(RunFolder.ConfigFile)));

        var resumed = Cli.Run("train", "lenet", "--resume", _dir.Combine("bf16"), "--force-bf16");
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Matches(@"precision bf16", resumed.Output);

        // The export is float32 whatever the run computed in, and verifies against the run's weights.
        var export = Cli.Run("export", _dir.Combine("bf16"));
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Contains("logits: float", export.Output);
        var verify = Cli.Run("verify", _dir.Combine("bf16", "model.onnx"), "--run", _dir.Combine("bf16"));
        Assert.True(verify.ExitCode == 0, verify.Output);

        var alone = Cli.Run(Train("alone", "--force-bf16"));
        Assert.Equal(2, alone.ExitCode);
        Assert.Contains("--force-bf16 was given without --precision bf16", alone.Stderr);

        // An fp32 run's config says nothing of precision, as before there was a choice.
        Assert.True(Cli.Run(Train("fp32", "--epochs", "1")).ExitCode == 0);
        Assert.DoesNotContain("precision", File.ReadAllText(_dir.Combine("fp32", RunFolder.ConfigFile)));
    }

    [Fact]
    public void A_run_stopped_before_its_first_checkpoint_resumes_from_epoch_1()
    {
        // What Ctrl-C during data loading or epoch 1, or a crash, leaves: config.json and no checkpoint (and maybe a
        // half-written checkpoint.bin.tmp from a kill during the first write).
        var (code, output) = Cli.Run(Train("full", "--epochs", "2"));
        Assert.True(code == 0, output);
        Directory.CreateDirectory(_dir.Combine("stuck"));
        File.Copy(_dir.Combine("full", "config.json"), _dir.Combine("stuck", "config.json"));
        File.WriteAllBytes(_dir.Combine("stuck", "checkpoint.bin.tmp"), [1, 2, 3]);

        var again = Cli.Run(Train("stuck", "--epochs", "2"));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds a run (config.json); continue it with --resume", again.Stderr);

        var resumed = Cli.Run("train", "lenet", "--resume", _dir.Combine("stuck"));
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        Assert.Contains("no checkpoint yet (the run stopped during its first epoch): starting from epoch 1", resumed.Output);
        Assert.Equal(File.ReadAllBytes(_dir.Combine("full", "model.pt")), File.ReadAllBytes(_dir.Combine("stuck", "model.pt")));
        Assert.False(File.Exists(_dir.Combine("stuck", "checkpoint.bin.tmp")));
    }

    [Fact]
    public void A_folder_that_holds_something_else_is_not_written_into()
    {
        Directory.CreateDirectory(_dir.Combine("mine"));
        File.WriteAllText(_dir.Combine("mine", "model.pt"), "my own weights");

        var result = Cli.Run(Train("mine", "--epochs", "1"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{_dir.Combine("mine")} is not empty (model.pt); a new run needs a new or empty folder, so nothing there is overwritten", result.Stderr);
        Assert.Equal("my own weights", File.ReadAllText(_dir.Combine("mine", "model.pt")));
    }

    [Fact]
    public void Limits_that_protect_the_machine_are_explained()
    {
        var threads = Cli.Run(Train("t", "--threads", "10000"));
        Assert.Equal(1, threads.ExitCode);
        Assert.Contains($"--threads is 10000; this machine has {Environment.ProcessorCount} cores", threads.Stderr);

        var width = Cli.Run(Train("w", "--width", "1000"));
        Assert.Equal(1, width.ExitCode);
        Assert.Matches(@"lenet5 at width 1000 has 2,4[0-9,]+ parameters \([0-9.]+ GB with gradients and Adam's moments\) and [0-9.]+ GB of activations per batch of 64: about [0-9.]+ GB in all, but [0-9.]+ GB is available; lower --width or --batch-size", width.Stderr);
        Assert.DoesNotContain("   at ", width.Output);
    }

    [Fact]
    public void A_learning_rate_that_blows_up_stops_with_a_message()
    {
        var result = Cli.Run(Train("nan", "--lr", "1e30", "--epochs", "2"));
        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"^error: training diverged: the loss is (NaN|\+infinity|-infinity) at epoch 1, batch [0-9]+ \(learning rate [0-9.]+E\+[0-9]+ at that step, --lr 1E\+30\); no epoch had finished, so there is no checkpoint\. Try a lower --lr\.$", result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Output);
    }

    [Fact]
    public async Task Two_trainings_into_one_folder_leave_one_run_and_one_clear_refusal()
    {
        string[] a = Train("shared", "--epochs", "3", "--seed", "1");
        string[] b = Train("shared", "--epochs", "3", "--seed", "2", "--lr", "0.001");
        using var first = CnnProcess.Start(_dir.Path, a);
        using var second = CnnProcess.Start(_dir.Path, b);
        var outputs = await Task.WhenAll(Finish(first), Finish(second));

        Assert.Equal([0, 1], outputs.Select(o => o.Code).Order());
        var loser = outputs.Single(o => o.Code == 1).Output;
        // Which refusal the loser gets depends on how far the winner got: its lock, its config.json, or its first files.
        Assert.Matches("is being trained by another cnn process \\(it holds run.lock\\)|already holds a run \\(config.json\\)|is not empty \\(", loser);
        // The folder holds one run, whole: its config and its weights belong together.
        var run = new RunFolder(_dir.Combine("shared"));
        var config = run.ReadConfig();
        string winner = outputs.Single(o => o.Code == 0).Output;
        Assert.Contains(config.Training.Seed == 1 ? "seed 1," : "seed 2,", winner);
        Assert.Equal(3, run.ReadSummary().EpochsRun);

        static async Task<(int Code, string Output)> Finish(Process process)
        {
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
    }

    [Fact]
    public async Task Ctrl_c_keeps_the_last_checkpoint_and_resume_ends_like_an_uninterrupted_run()
    {
        string[] options = ["--epochs", "12", "--patience", "0", "--scheduler", "cosine"];
        var (code, output) = Cli.Run(Train("whole", options));
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
        var (resumeCode, resumeOutput) = Cli.Run("train", "lenet", "--resume", _dir.Combine("part"));
        Assert.True(resumeCode == 0, resumeOutput);
        Assert.Contains("resuming after epoch", resumeOutput);

        Assert.Equal(File.ReadAllBytes(_dir.Combine("whole", RunFolder.WeightsFile)), File.ReadAllBytes(_dir.Combine("part", RunFolder.WeightsFile)));
        Assert.Equal(new RunFolder(_dir.Combine("whole")).ReadSummary().TestAccuracy, new RunFolder(_dir.Combine("part")).ReadSummary().TestAccuracy);
    }
}

public class TrainSettingsTests
{
    [Theory]
    [InlineData("--lr", "-1", "--lr is -1; expected a positive number up to 3.4e38")]
    [InlineData("--width", "0", "--width is 0; expected a positive number (1 = the original net)")]
    [InlineData("--dataset", "cifar", "--dataset is 'cifar'; expected digits, mnist, handwriting, fashion-mnist or cifar100")]
    [InlineData("--val-fraction", "1.5", "--val-fraction is 1.5; expected between 0 and 1")]
    public void Validation_messages_name_actual_and_expected(string option, string value, string message)
    {
        var settings = option switch
        {
            "--lr" => new TrainLeNetSettings { LearningRate = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "--width" => new TrainLeNetSettings { Width = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "--dataset" => new TrainLeNetSettings { Dataset = value },
            _ => new TrainLeNetSettings { ValidationFraction = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
        };
        var result = settings.Validate();
        Assert.False(result.Successful);
        Assert.Equal(message, result.Message);
    }

    public static TheoryData<TrainLeNetSettings, string> HandwritingOptions => new()
    {
        { new TrainLeNetSettings { Dataset = "fashion-mnist", Deskew = true }, "--deskew is on for fashion-mnist; deskewing is for handwritten digits (digits, mnist or handwriting)" },
        { new TrainLeNetSettings { NoAugment = true, StrokeChange = 0.5 }, "--stroke-change is 0.5 with augmentation off; it is part of the augmentation, so turn that on or leave it out" },
        { new TrainLeNetSettings { StrokeChange = 2 }, "--stroke-change is 2; expected 0..1 (0 = strokes as they are)" },
        { new TrainLeNetSettings { Shear = -0.1 }, "--shear is -0.1; expected 0..1 (0 = no slant)" },
        { new TrainLeNetSettings { Elastic = 500 }, "--elastic is 500; expected 0..100 pixels (0 = no elastic distortion)" },
        { new TrainLeNetSettings { Blur = 1.5 }, "--blur is 1.5; expected 0..1 (0 = no blur)" },
        { new TrainLeNetSettings { NoAugment = true, Blur = 0.3 }, "--blur is 0.3 with augmentation off; it is part of the augmentation, so turn that on or leave it out" },
        { new TrainLeNetSettings { Ema = 1 }, "--ema is 1; expected 0 (off) or a decay below 1, such as 0.999" },
        { new TrainLeNetSettings { Ema = -0.5 }, "--ema is -0.5; expected 0 (off) or a decay below 1, such as 0.999" },
        { new TrainLeNetSettings { Photos = 1.5 }, "--photos is 1.5; expected 0..1 (0 = none through the photo preprocessing)" },
        { new TrainLeNetSettings { NoAugment = true, Photos = 0.5 }, "--photos is 0.5 with augmentation off; it is part of the augmentation, so turn that on or leave it out" },
        { new TrainLeNetSettings { Dataset = "fashion-mnist", Photos = 0.5 }, "--photos is on for fashion-mnist; it sends digits through the handwriting preprocessing, which is for digits, mnist or handwriting" },
        { new TrainLeNetSettings { DistillWeight = 0.5 }, "--distill-weight was given without --teacher; expected --teacher MODEL.onnx with it, or neither" },
        { new TrainLeNetSettings { Teacher = "t.onnx", DistillTemperature = 0.5 }, "--distill-temperature is 0.5; expected 1..100" },
        { new TrainLeNetSettings { Teacher = "t.onnx", DistillWeight = 2 }, "--distill-weight is 2; expected 0..1 (the teacher's share of the loss)" },
        { new TrainLeNetSettings { Deskew = true, NoDeskew = true }, "--deskew and --no-deskew were both given; expected at most one" },
    };

    [Theory]
    [MemberData(nameof(HandwritingOptions))]
    public void Handwriting_options_that_do_not_apply_or_are_out_of_range_are_named(TrainLeNetSettings settings, string message)
    {
        var result = settings.Validate();
        Assert.False(result.Successful);
        Assert.Equal(message, result.Message);
    }

    [Fact]
    public void Without_augmentation_the_jitter_defaults_fall_away_and_cifar_refuses_them()
    {
        var request = new TrainLeNetSettings { NoAugment = true }.Request();
        Assert.Equal((false, 0.0, 0.0, 0.0), (request.Options.Augment, request.Options.Shear, request.Options.Elastic, request.Options.StrokeChange));
        Assert.Equal(0.0, request.Options.Photos);
        Assert.Equal("--photos is for grey images (--dataset digits, mnist, handwriting or fashion-mnist); cifar100 is augmented by crop and flip only", new TrainCifarSettings { Photos = 0.5 }.Validate().Message);
        var cifar = new TrainCifarSettings { Elastic = 8 }.Validate();
        Assert.Equal("--elastic is for grey images (--dataset digits, mnist, handwriting or fashion-mnist); cifar100 is augmented by crop and flip only", cifar.Message);
    }

    [Fact]
    public void The_handwriting_mix_takes_its_renderings_and_sources_folder_and_other_data_sets_refuse_them()
    {
        var request = new TrainLeNetSettings { Dataset = "handwriting", Sources = "hands" }.Request();
        Assert.Equal((Cnn.Train.Data.HandwritingDataset.DefaultSourceRenders, 60, 0, "hands"), (request.Options.SourceRenders, request.Options.Epochs, request.Options.Patience, request.Data?.SourcesFolder));
        Assert.Equal(3, new TrainLeNetSettings { Dataset = "handwriting", SourceRenders = 3 }.Request().Options.SourceRenders);
        Assert.Equal("--source-renders is 2 for mnist; it mixes the outside collections into --dataset handwriting only",
            new TrainLeNetSettings { Dataset = "mnist", SourceRenders = 2 }.Validate().Message);
        Assert.Equal("--source-renders is 0 for handwriting; expected 1..16 renderings of each outside digit (without them it is --dataset mnist)",
            new TrainLeNetSettings { Dataset = "handwriting", SourceRenders = 0 }.Validate().Message);
        Assert.Equal("--source-renders is 17; expected 0..16 renderings of each outside digit",
            new TrainLeNetSettings { Dataset = "handwriting", SourceRenders = 17 }.Validate().Message);
        Assert.Equal("--sources is given for digits; it is where --dataset handwriting finds the outside collections",
            new TrainLeNetSettings { Sources = "hands" }.Validate().Message);
    }

    [Fact]
    public void The_cifar_net_on_digits_takes_the_handwriting_options_and_no_label_set()
    {
        var request = new TrainCifarSettings { Dataset = "mnist", Elastic = 34, Shear = 0.3 }.Request();
        Assert.Equal((true, 34.0, 0.3, 0.5, 3e-3, 60), (request.Options.Augment, request.Options.Elastic, request.Options.Shear, request.Options.StrokeChange, request.Options.LearningRate, request.Options.Epochs));
        var labels = new TrainCifarSettings { Dataset = "mnist", Labels = Cnn.Train.Data.CifarLabels.Fine }.Validate();
        Assert.Equal("--labels is given for mnist; it chooses CIFAR-100's label set, so expected it only with --dataset cifar100", labels.Message);
        Assert.True(new TrainCifarSettings { Labels = Cnn.Train.Data.CifarLabels.Fine }.Validate().Successful);
    }

    [Fact]
    public void Unset_options_take_the_data_sets_defaults()
    {
        var recipe = Cnn.Train.Recipes.Recipes.LeNet;
        var defaults = recipe.Defaults(recipe.Dataset("fashion-mnist"));
        var request = new TrainLeNetSettings { Dataset = "fashion-mnist", Epochs = 3, NoAugment = true, Scheduler = SchedulerKind.Plateau, Threads = 1 }.Request();
        Assert.Equal(defaults with { Epochs = 3, Augment = false, Scheduler = SchedulerKind.Plateau, Threads = 1 }, request.Options);
        Assert.Equal("fashion-mnist", request.Dataset.Name);
        Assert.Equal(1.0, request.Width);
    }
}
