using System.Globalization;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

using Cnn.Tests;

namespace Cnn.Train.Tests;

/// <summary>Fixed seed, tiny generated data, 1 thread, a few epochs.</summary>
public sealed class TrainerTests : IDisposable
{
    private static readonly TrainOptions Tiny = new()
    {
        Epochs = 4, BatchSize = 32, LearningRate = 3e-3, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Seed = 11, Patience = 0, Scheduler = SchedulerKind.OneCycle, Augment = true,
        ValidationFraction = 0.2,
    };

    private readonly TempFolder _dir = new();
    private readonly string _data;

    public TrainerTests()
    {
        _data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 500, testCount: 100);
    }

    public void Dispose() => _dir.Dispose();

    private (RunFolder Run, TrainOutcome Outcome) Train(string name, TrainOptions options, ITrainingObserver? observer = null, CancellationToken cancel = default, double width = 1.0)
    {
        using var data = Load(options);
        var run = new RunFolder(_dir.Combine(name));
        var config = new RunConfig(Recipes.Recipes.LeNet.Model(data.Info, width), options, data.Info, data.Normalization, VersionInfo.Current());
        return (run, new Trainer(run, config, data, observer).Fit(resume: false, cancel));
    }

    private TrainingData Load(TrainOptions options) =>
        Datasets.Digits.Load(MnistFiles.InFolder(_data), options);

    private static Dictionary<string, Tensor> Weights(RunFolder run)
    {
        var model = new LeNet5(new LeNet5Config());
        model.load(run.File(RunFolder.WeightsFile));
        return model.state_dict();
    }

    private static void AssertSameWeights(RunFolder a, RunFolder b)
    {
        var wa = Weights(a);
        var wb = Weights(b);
        foreach (var key in wa.Keys)
        {
            Assert.True(wa[key].allclose(wb[key], rtol: 0, atol: 0), $"{key} differs");
        }
    }

    /// <summary>metrics.csv without its timing and memory columns.</summary>
    private static List<string> LearningColumns(RunFolder run) =>
        File.ReadAllLines(run.File(RunFolder.MetricsFile)).Select(l => string.Join(',', l.Split(',').Take(6))).ToList();

    [Fact]
    public void Training_learns_and_writes_the_run_folder()
    {
        var (run, outcome) = Train("run", Tiny);

        var summary = run.ReadSummary();
        Assert.False(outcome.Interrupted);
        Assert.Equal(summary, outcome.Summary);
        Assert.True(summary.TestAccuracy > 0.9, $"test accuracy {summary.TestAccuracy}");
        Assert.Equal(4, summary.EpochsRun);
        Assert.Equal(61_706, summary.Parameters);
        Assert.True(summary.TrainImagesPerSecond > 0);
        Assert.Equal(5, File.ReadAllLines(run.File(RunFolder.MetricsFile)).Length);

        var config = run.ReadConfig();
        var model = Assert.IsType<LeNet5Config>(config.Model);
        Assert.Equal(new LeNet5Config(), model);
        Assert.Equal(Tiny, config.Training);
        Assert.Equal((400, 100, 100), (config.Data.TrainCount, config.Data.ValidationCount, config.Data.TestCount));
        Assert.Single(config.Normalization.Mean);
        Assert.Contains("\"kind\": \"lenet5\"", File.ReadAllText(run.File(RunFolder.ConfigFile)));
        Assert.DoesNotContain(Directory.GetFiles(run.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Same_seed_and_threads_give_bit_identical_weights()
    {
        var (a, _) = Train("a", Tiny);
        var (b, _) = Train("b", Tiny);
        AssertSameWeights(a, b);
        Assert.Equal(LearningColumns(a), LearningColumns(b));

        var (c, _) = Train("c", Tiny with { Seed = 12 });
        Assert.False(Weights(a)["conv1.weight"].allclose(Weights(c)["conv1.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void Nnpack_stays_off_once_libtorch_is_loaded_whatever_guards_come_and_go()
    {
        // The CIFAR net's single-digit figures reach NNPACK, which logs "Could not initialize NNPACK" on CPUs it does
        // not support; a guard taken before libtorch was loaded must not bring it back when released.
        var early = OneDnnGuard.For(new LeNet5Config { Width = 4 });
        TorchRuntime.EnsureLoaded();
        Assert.False(OneDnnGuard.NnpackEnabled, "NNPACK is on after EnsureLoaded");
        early.Dispose();
        Assert.False(OneDnnGuard.NnpackEnabled, "releasing a guard taken before EnsureLoaded turned NNPACK back on");
        using (OneDnnGuard.For(new LeNet5Config { Width = 4 }))
        {
            Assert.False(OneDnnGuard.NnpackEnabled);
        }

        Assert.False(OneDnnGuard.NnpackEnabled, "a guard's release turned NNPACK back on");
    }

    [Fact]
    public void A_narrow_lenet_trains_finite_and_bit_identical_with_onednn_off_for_it()
    {
        // Width 0.5 (3 conv1 channels) used to turn NaN at a random batch through oneDNN's AVX-512 kernels.
        var options = new TrainOptions { Epochs = 2, Patience = 0, Seed = 3, LearningRate = 3e-3 };
        var (a, outcomeA) = Train("narrow-a", options, width: 0.5);
        var (b, _) = Train("narrow-b", options, width: 0.5);
        Assert.False(outcomeA.Interrupted);
        using (var wa = new LeNet5(new LeNet5Config { Width = 0.5 }))
        using (var wb = new LeNet5(new LeNet5Config { Width = 0.5 }))
        {
            // The net itself holds oneDNN off while it lives, so its forward passes outside training are right too.
            Assert.False(OneDnnGuard.Enabled, "oneDNN is on while a net of 3 conv1 channels lives");
            wa.load(a.File(RunFolder.WeightsFile));
            wb.load(b.File(RunFolder.WeightsFile));
            foreach (var (key, value) in wa.state_dict())
            {
                Assert.True(value.isfinite().all().ToBoolean(), $"{key} is not finite");
                Assert.True(value.allclose(wb.state_dict()[key], rtol: 0, atol: 0), $"{key} differs between two runs of one seed");
            }
        }

        using (OneDnnGuard.For(new LeNet5Config { Width = 0.5 }))
        {
            Assert.False(OneDnnGuard.Enabled, "oneDNN is still on for a net of 3 conv1 channels");
        }

        Assert.True(OneDnnGuard.Enabled, "the guard left oneDNN off after the narrow net");
        // Width 4 (24 channels) turned NaN the same way; widths 1 and 2, measured right, keep oneDNN's speed.
        using (OneDnnGuard.For(new LeNet5Config { Width = 4 }))
        {
            Assert.False(OneDnnGuard.Enabled, "oneDNN is still on for a net of 24 conv1 channels");
        }

        // An ensemble's members hold a guard each and may release them in the order they were taken: oneDNN comes
        // back only with the last one.
        var first = OneDnnGuard.For(new LeNet5Config { Width = 4 });
        var second = OneDnnGuard.For(new LeNet5Config { Width = 4 });
        first.Dispose();
        Assert.False(OneDnnGuard.Enabled, "oneDNN came back while a member still held its guard");
        second.Dispose();
        Assert.True(OneDnnGuard.Enabled, "oneDNN stayed off after the last guard");

        foreach (var width in new[] { 1.0, 2.0 })
        {
            using (OneDnnGuard.For(new LeNet5Config { Width = width }))
            {
                Assert.True(OneDnnGuard.Enabled, $"oneDNN was turned off for width {width}");
            }
        }
    }

    [Fact]
    public void A_bf16_run_is_bit_identical_run_to_run_differs_from_fp32_and_resumes_exactly()
    {
        // Forced: CI's CPU may have no bfloat16 instructions (libtorch then emulates them, reproducibly too).
        var bf16 = Tiny with { Epochs = 3, Precision = Precision.Bf16, ForcePrecision = true };
        var (a, outcome) = Train("bf16-a", bf16);
        var (b, _) = Train("bf16-b", bf16);
        AssertSameWeights(a, b);
        Assert.Equal(LearningColumns(a), LearningColumns(b));
        Assert.Equal(Precision.Bf16, a.ReadConfig().Training.Precision);
        Assert.True(outcome.Summary!.TestAccuracy > 0.5, $"test accuracy {outcome.Summary.TestAccuracy:P1}");

        var (fp32, _) = Train("fp32", bf16 with { Precision = Precision.Fp32 });
        Assert.NotEqual(LearningColumns(a), LearningColumns(fp32));

        using var cancel = new CancellationTokenSource();
        var (part, stopped) = Train("bf16-part", bf16, new CancelAfter(2, cancel), cancel.Token);
        Assert.True(stopped.Interrupted);
        using (var data = Load(bf16))
        {
            // The saved config says bf16; forcing is per invocation, as the CLI's --force-bf16 is.
            var config = part.ReadConfig();
            new Trainer(part, config with { Training = config.Training with { ForcePrecision = true } }, data).Fit(resume: true);
        }

        AssertSameWeights(a, part);
        Assert.Equal(LearningColumns(a), LearningColumns(part));
    }

    [Fact]
    public void Interrupted_run_resumed_ends_where_the_uninterrupted_run_ends()
    {
        var options = Tiny with { Epochs = 4, Scheduler = SchedulerKind.Plateau, Patience = 3 };
        var (whole, _) = Train("whole", options);

        using var cancel = new CancellationTokenSource();
        var (part, outcome) = Train("part", options, new CancelAfter(2, cancel), cancel.Token);
        Assert.True(outcome.Interrupted);
        Assert.Equal(2, outcome.EpochsDone);
        Assert.False(File.Exists(part.File(RunFolder.SummaryFile)));

        using (var data = Load(options))
        {
            var resumed = new Trainer(part, part.ReadConfig(), data).Fit(resume: true);
            Assert.Equal(4, resumed.EpochsDone);
        }

        AssertSameWeights(whole, part);
        Assert.Equal(LearningColumns(whole), LearningColumns(part));
        Assert.Equal(whole.ReadSummary().TestAccuracy, part.ReadSummary().TestAccuracy);
    }

    [Fact]
    public void A_run_with_a_weight_average_keeps_the_average_and_resumes_exactly()
    {
        var options = Tiny with { Epochs = 4, Ema = 0.99 };
        var (whole, _) = Train("ema-whole", options);
        var (plain, _) = Train("ema-off", Tiny with { Epochs = 4 });

        using var cancel = new CancellationTokenSource();
        var (part, outcome) = Train("ema-part", options, new CancelAfter(2, cancel), cancel.Token);
        Assert.True(outcome.Interrupted);
        using var data = Load(options);
        new Trainer(part, part.ReadConfig(), data).Fit(resume: true);

        // The checkpoint carries the average: a resumed run keeps what the uninterrupted one kept.
        AssertSameWeights(whole, part);
        Assert.Equal(LearningColumns(whole), LearningColumns(part));
        Assert.Equal(0.99, part.ReadConfig().Training.Ema);

        // model.pt is the average, not the last weights, so it reproduces the validation loss metrics.csv logged.
        using var model = new LeNet5(new LeNet5Config());
        model.load(whole.File(RunFolder.WeightsFile));
        var validation = Trainer.Evaluate(model, data.Validation, data.Normalization, CPU, options.BatchSize);
        var logged = File.ReadAllLines(whole.File(RunFolder.MetricsFile)).Skip(1).Select(l => double.Parse(l.Split(',')[4], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(logged[whole.ReadSummary().BestEpoch - 1], validation.Loss, 1e-6);
        Assert.NotEqual(Weights(plain)["conv1.weight"].data<float>().ToArray(), Weights(whole)["conv1.weight"].data<float>().ToArray());
    }

    [Fact]
    public void Early_stopping_stops_after_patience_and_restores_the_best_epoch()
    {
        // A learning rate this high makes the validation loss climb after the first epochs.
        var options = Tiny with { Epochs = 12, Patience = 2, LearningRate = 0.05, Scheduler = SchedulerKind.None, Augment = false };
        var (run, outcome) = Train("early", options);

        var summary = outcome.Summary!;
        var rows = File.ReadAllLines(run.File(RunFolder.MetricsFile)).Skip(1).Select(l => l.Split(',')).ToList();
        var valLosses = rows.Select(r => double.Parse(r[4], CultureInfo.InvariantCulture)).ToList();
        Assert.True(summary.StoppedEarly, string.Join(' ', valLosses));
        Assert.Equal(summary.BestEpoch + options.Patience, summary.EpochsRun);
        Assert.Equal(valLosses.IndexOf(valLosses.Where(v => !double.IsNaN(v)).Min()) + 1, summary.BestEpoch);

        // model.pt holds the best epoch's weights: evaluating it reproduces that epoch's validation loss.
        using var data = Load(options);
        using var model = new LeNet5(new LeNet5Config());
        model.load(run.File(RunFolder.WeightsFile));
        var validation = Trainer.Evaluate(model, data.Validation, data.Normalization, CPU, options.BatchSize);
        Assert.Equal(valLosses[summary.BestEpoch - 1], validation.Loss, 1e-6);
    }

    [Fact]
    public void Live_tensor_count_is_flat_across_epochs()
    {
        var observer = new LiveTensors();
        Train("memory", Tiny with { Epochs = 4 }, observer);
        Assert.Equal(4, observer.Counts.Count);
        Assert.All(observer.Counts.Skip(1), c => Assert.Equal(observer.Counts[1], c));
    }

    [Fact]
    public void Corrupt_checkpoint_is_named_in_the_error()
    {
        var (run, _) = Train("ckpt", Tiny with { Epochs = 1 });
        File.WriteAllBytes(run.File(RunFolder.CheckpointFile), [3, 1, 2, 3]);
        using var data = Load(Tiny);
        var e = Assert.Throws<InvalidDataException>(() => new Trainer(run, run.ReadConfig(), data).Fit(resume: true));
        Assert.Equal($"{run.File(RunFolder.CheckpointFile)}: header '\u0001\u0002\u0003'; expected 'cnn-checkpoint/1'", e.Message);
    }

    [Fact]
    public void Split_is_seeded_disjoint_and_normalisation_comes_from_train()
    {
        using var a = Load(Tiny);
        using var b = Load(Tiny);
        Assert.True(a.Train.Images.to_type(ScalarType.Int32).allclose(b.Train.Images.to_type(ScalarType.Int32), rtol: 0, atol: 0));
        Assert.Equal(500, a.Train.Count + a.Validation.Count);

        using var scope = NewDisposeScope();
        var x = a.Train.Images.to_type(ScalarType.Float64) / 255.0;
        Assert.Equal(x.mean().item<double>(), a.Normalization.Mean[0], 1e-9);
        Assert.Equal(x.std(unbiased: false).item<double>(), a.Normalization.Std[0], 1e-9);
    }

    private sealed class CancelAfter(int epochs, CancellationTokenSource source) : ITrainingObserver
    {
        public void EpochCompleted(EpochMetrics metrics, bool improved)
        {
            if (metrics.Epoch == epochs)
            {
                source.Cancel();
            }
        }
    }

    private sealed class LiveTensors : ITrainingObserver
    {
        public List<long> Counts { get; } = [];

        public void EpochCompleted(EpochMetrics metrics, bool improved) =>
            Counts.Add(DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
    }
}
