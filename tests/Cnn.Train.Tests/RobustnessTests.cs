using System.Diagnostics;
using Cnn.Tests;
using Cnn.Train.Data;
using Cnn.Train.Recipes;
using Cnn.Train.Training;

namespace Cnn.Train.Tests;

/// <summary>What probing the library as a user would found: locks, damaged files, divergence, sweeps rerun with other options.</summary>
public sealed class RobustnessTests : IDisposable
{
    private static readonly TrainOptions Tiny = new()
    {
        Epochs = 2, BatchSize = 32, LearningRate = 3e-3, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Seed = 5, Patience = 0, ValidationFraction = 0.2,
    };

    private readonly TempFolder _dir = new();
    private readonly string _data;

    public RobustnessTests()
    {
        _data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 200, testCount: 50);
    }

    public void Dispose() => _dir.Dispose();

    private async Task<PreparedRun> Prepare(TrainOptions options) =>
        await Recipes.Recipes.LeNet.PrepareAsync(new RunRequest(Recipes.Recipes.LeNet.DefaultDataset, options, Data: new DataRequest(_data)), downloader: null);

    [Fact]
    public async Task A_second_training_of_a_locked_run_folder_is_refused_and_the_first_one_is_unharmed()
    {
        using var prepared = await Prepare(Tiny);
        var run = new RunFolder(_dir.Combine("run"));
        using (RunLock.Acquire(run.Path))
        {
            var e = Assert.Throws<RunFolderLockedException>(() => new Trainer(run, prepared.Config, prepared.Data).Fit(resume: false));
            Assert.Equal($"{run.Path} is being trained by another cnn process (it holds run.lock); wait for it to finish, or choose another folder", e.Message);
            Assert.False(run.HasConfig);
        }

        Assert.Equal(2, new Trainer(run, prepared.Config, prepared.Data).Fit(resume: false).EpochsDone);
    }

    [Fact]
    public void A_lock_held_by_a_killed_process_does_not_block()
    {
        string folder = _dir.Combine("killed");
        Directory.CreateDirectory(folder);
        // util-linux's flock(1) takes the same advisory lock .NET takes for FileShare.None on Linux; --no-fork makes the
        // sleeping process itself the holder, so killing it is a holder killed.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--no-fork", Path.Combine(folder, RunLock.FileName), "sleep", "60"]) { UseShellExecute = false })!;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && !IsLocked(folder))
        {
            Thread.Sleep(20);
        }

        Assert.Throws<RunFolderLockedException>(() => RunLock.Acquire(folder));
        holder.Kill();
        holder.WaitForExit();
        using var taken = RunLock.Acquire(folder);
    }

    private static bool IsLocked(string folder)
    {
        try
        {
            RunLock.Acquire(folder).Dispose();
            return false;
        }
        catch (RunFolderLockedException)
        {
            return true;
        }
    }

    [Fact]
    public void A_failed_write_keeps_the_old_file_and_leaves_no_temp_file()
    {
        string path = _dir.Combine("file.json");
        File.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("new, half"u8);
            throw new IOException("No space left on device");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public async Task Damaged_checkpoints_and_weights_are_named_with_what_to_do()
    {
        using var prepared = await Prepare(Tiny with { Epochs = 1 });
        var run = new RunFolder(_dir.Combine("damaged"));
        new Trainer(run, prepared.Config, prepared.Data).Fit(resume: false);
        var checkpoint = File.ReadAllBytes(run.File(RunFolder.CheckpointFile));

        File.WriteAllBytes(run.File(RunFolder.CheckpointFile), checkpoint[..(checkpoint.Length / 2)]);
        var truncated = Assert.Throws<InvalidDataException>(() => new Trainer(run, prepared.Config, prepared.Data).Fit(resume: true));
        Assert.StartsWith($"{run.File(RunFolder.CheckpointFile)}: the checkpoint is damaged (", truncated.Message);
        Assert.EndsWith("; delete it to train this run again from epoch 1", truncated.Message);

        // The trainer state is JSON after the header: spoil its first brace.
        int brace = Array.IndexOf(checkpoint, (byte)'{');
        var json = checkpoint.ToArray();
        json[brace] = (byte)'[';
        File.WriteAllBytes(run.File(RunFolder.CheckpointFile), json);
        var badJson = Assert.Throws<InvalidDataException>(() => new Trainer(run, prepared.Config, prepared.Data).Fit(resume: true));
        Assert.StartsWith($"{run.File(RunFolder.CheckpointFile)}: the checkpoint is damaged (JsonException: ", badJson.Message);

        var weights = File.ReadAllBytes(run.File(RunFolder.WeightsFile));
        File.WriteAllBytes(run.File(RunFolder.WeightsFile), weights[..100]);
        var model = Assert.Throws<InvalidDataException>(() => run.LoadModel());
        Assert.StartsWith($"{run.File(RunFolder.WeightsFile)}: cannot load the weights of lenet5 (", model.Message);
    }

    [Fact]
    public async Task A_loss_that_turns_nan_after_some_epochs_stops_the_run_keeping_the_last_checkpoint()
    {
        // Adam at a huge rate kills a ReLU net rather than overflowing it, so the weights are made NaN before epoch 3,
        // as an overflow would leave them.
        using var prepared = await Prepare(Tiny with { Epochs = 4 });
        var run = new RunFolder(_dir.Combine("nan"));
        var trainer = new Trainer(run, prepared.Config, prepared.Data)
        {
            BeforeEpoch = (epoch, model) =>
            {
                if (epoch == 3)
                {
                    using var noGrad = TorchSharp.torch.no_grad();
                    model.parameters().First().fill_(float.NaN);
                }
            },
        };
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(resume: false));

        Assert.Equal($"training diverged: the loss is NaN at epoch 3, batch 1 (learning rate 0.00215 at that step, --lr 0.003); {run.Path} keeps the checkpoint of epoch 2 and the best weights in model.pt. Try a lower --lr.", e.Message);
        Assert.Equal(2, run.ReadMetrics().Count);
        Assert.False(File.Exists(run.File(RunFolder.SummaryFile)));
        // What was kept is whole: the run resumes from its checkpoint and finishes.
        var resumed = new Trainer(run, prepared.Config, prepared.Data).Fit(resume: true);
        Assert.Equal(4, resumed.EpochsDone);
        Assert.True(double.IsFinite(resumed.Summary!.TestLoss));
    }

    [Fact]
    public void A_metrics_file_with_a_non_number_names_line_and_field()
    {
        var run = new RunFolder(_dir.Combine("metrics"));
        Directory.CreateDirectory(run.Path);
        File.WriteAllText(run.File(RunFolder.MetricsFile), "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds,images_per_second,rss_mb,peak_rss_mb\n1,0.001,0.5,abc,0.4,0.9,1,100,200,200\n");
        var e = Assert.Throws<InvalidDataException>(() => run.ReadMetrics());
        Assert.Equal($"{run.File(RunFolder.MetricsFile)}: line 2, field 4 is 'abc'; expected a number", e.Message);
    }

    [Fact]
    public async Task A_sweep_rerun_with_other_options_refuses_the_old_runs_and_duplicates_are_named()
    {
        var recipe = Recipes.Recipes.LeNet;
        var point = new SweepPoint(3e-3, 0.5, 1);
        RunRequest Request(SweepPoint p, int epochs) => new(recipe.DefaultDataset, Tiny with { Epochs = epochs, LearningRate = p.LearningRate, Seed = p.Seed }, p.Width, new DataRequest(_data));
        var first = await Sweep.RunPointAsync(_dir.Combine("sweep"), point, recipe, p => Request(p, 1), downloader: null);
        Assert.False(first.Skipped);

        // Interrupted runs are resumed and finished ones skipped, but only when they were trained as asked now.
        File.Delete(Path.Combine(_dir.Combine("sweep"), point.FolderName, RunFolder.SummaryFile));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Sweep.RunPointAsync(_dir.Combine("sweep"), point, recipe, p => Request(p, 3), downloader: null));
        Assert.Equal($"{Path.Combine(_dir.Combine("sweep"), point.FolderName)} was trained with other options: Epochs 1 (now 3); give this sweep another --out, or delete that run folder to train it again", e.Message);

        var duplicate = Assert.Throws<ArgumentException>(() => Sweep.Grid([1e-3, 3e-3, 1e-3], [1], [1]));
        Assert.Equal("--lr lists 0.001 more than once; expected each value once", duplicate.Message);
    }

    [Fact]
    public async Task A_cifar_folder_with_one_of_its_two_files_says_which_is_missing()
    {
        string folder = SyntheticCifar.Write(_dir.Combine("cifar"), 20, 10);
        File.Delete(Path.Combine(folder, "test.bin"));
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => Cifar100.EnsureAsync(folder, new Downloader(http)));
        Assert.Equal($"{folder}: has train.bin but not test.bin; expected both files of CIFAR-100's binary version there (or an empty folder to download them into)", e.Message);
    }

    [Fact]
    public void Parameter_counts_computed_from_the_config_equal_the_built_nets()
    {
        foreach (var config in new Models.ModelConfig[]
        {
            new Models.LeNet5Config(), new Models.LeNet5Config { Width = 2.5 }, new Models.LeNet5Config { ImageSize = 32, NumClasses = 20 },
            new Models.CifarCoarseNetConfig(), new Models.CifarCoarseNetConfig { Width = 0.5, NumClasses = 100 },
        })
        {
            using var model = config.Build();
            Assert.Equal(model.parameters().Sum(p => p.numel()), config.ParameterCount());
        }
    }

    [Fact]
    public void The_memory_estimate_refuses_what_cannot_fit_and_threads_far_above_the_cores()
    {
        var config = new RunConfig(new Models.LeNet5Config { Width = 100 }, Tiny, new DataInfo("digits", "x", 1, 1, 1, 1, 28, 28, DatasetCatalog.DigitClasses),
            new Normalization([0.1], [0.3]), VersionInfo.Current());
        // 28.8 M parameters × 16 B and 0.5 GB of activations for a batch of 32: about 1 GB.
        ResourceCheck.Check(config, availableBytes: 2_000_000_000);
        var e = Assert.Throws<ArgumentException>(() => ResourceCheck.Check(config, availableBytes: 500_000_000));
        Assert.StartsWith("lenet5 at width 100 has 28,828,334 parameters (0.5 GB with gradients and Adam's moments) and 0.5 GB of activations per batch of 32", e.Message);
        Assert.EndsWith("but 0.5 GB is available; lower --width or --batch-size", e.Message);

        var threads = Assert.Throws<ArgumentException>(() => ResourceCheck.Check(config with { Training = Tiny with { Threads = 1000 } }, availableBytes: long.MaxValue));
        Assert.Equal($"--threads is 1000; this machine has {Environment.ProcessorCount} cores, and beyond {4 * Environment.ProcessorCount} threads libtorch only slows down; expected 1..{4 * Environment.ProcessorCount}", threads.Message);
    }

    [Fact]
    public async Task A_run_on_the_embedded_digits_reloads_the_same_split_for_resume()
    {
        // config.json records the embedded data set as "embedded:mnist-5k"; --resume, verify and report reload it.
        var recipe = Recipes.Recipes.LeNet;
        using var prepared = await recipe.PrepareAsync(new RunRequest(recipe.DefaultDataset, Tiny), downloader: null);
        Assert.Equal("embedded:mnist-5k", prepared.Config.Data.Source);
        Assert.Equal((3200, 800, 1000), (prepared.Config.Data.TrainCount, prepared.Config.Data.ValidationCount, prepared.Config.Data.TestCount));

        var run = new RunFolder(_dir.Combine("digits"));
        run.WriteConfig(prepared.Config);
        var saved = run.ReadConfig();
        using var reloaded = await Datasets.ReloadAsync(saved);

        Assert.Equal(prepared.Data.Normalization.Mean, reloaded.Normalization.Mean);
        Assert.Equal(prepared.Data.Normalization.Std, reloaded.Normalization.Std);
        Assert.True(prepared.Data.Train.Images.eq(reloaded.Train.Images).all().item<bool>());
        Assert.True(prepared.Data.Validation.Labels.eq(reloaded.Validation.Labels).all().item<bool>());
    }
}
