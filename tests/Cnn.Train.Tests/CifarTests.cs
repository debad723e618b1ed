using System.Net;
using System.Security.Cryptography;
using Cnn.Tests;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

public sealed class CifarTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_the_coarse_or_the_fine_byte_and_the_rgb_planes()
    {
        var bytes = SyntheticCifar.Records(3, new Random(1));
        bytes[Cifar100.RecordBytes + 1] = 77;
        var (images, coarse) = Cifar100.Parse(bytes, "x.bin", CifarLabels.Coarse);
        var (_, fine) = Cifar100.Parse(bytes, "x.bin", CifarLabels.Fine);
        Assert.Equal(3, images.Count);
        Assert.Equal([0, 1, 2], coarse.Labels.Select(b => (int)b));
        Assert.Equal(77, fine.Labels[1]);
        Assert.Equal(bytes.AsSpan(2, Cifar100.ImageBytes).ToArray(), images.Pixels.AsSpan(0, Cifar100.ImageBytes).ToArray());
    }

    [Fact]
    public void A_truncated_file_names_the_record()
    {
        var bytes = SyntheticCifar.Records(3, new Random(1))[..^10];
        var e = Assert.Throws<InvalidDataException>(() => Cifar100.Parse(bytes, "train.bin", CifarLabels.Coarse));
        Assert.Equal("train.bin: 9,212 bytes is not a whole number of 3,074-byte records (1 coarse label, 1 fine label, 3,072 pixels); record 2 is truncated after 3,064 bytes", e.Message);
    }

    [Fact]
    public void A_label_out_of_range_names_the_record()
    {
        var bytes = SyntheticCifar.Records(3, new Random(1));
        bytes[2 * Cifar100.RecordBytes] = 20;
        var e = Assert.Throws<InvalidDataException>(() => Cifar100.Parse(bytes, "test.bin", CifarLabels.Coarse));
        Assert.StartsWith("test.bin: record 2 has coarse label 20 and fine label", e.Message);
        Assert.EndsWith("expected 0..19 and 0..99", e.Message);
    }

    [Fact]
    public void Class_names_are_cifar_100s()
    {
        Assert.Equal(20, Cifar100.CoarseClasses.Count);
        Assert.Equal(100, Cifar100.FineClasses.Count);
        Assert.Equal("aquatic_mammals", Cifar100.CoarseClasses[0]);
        Assert.Equal("vehicles_2", Cifar100.CoarseClasses[19]);
        Assert.Equal("apple", Cifar100.FineClasses[0]);
        Assert.Equal("worm", Cifar100.FineClasses[99]);
        Assert.Equal(Cifar100.FineClasses.Order(StringComparer.Ordinal), Cifar100.FineClasses);
    }

    [Fact]
    public async Task The_tarball_is_downloaded_checked_and_unpacked()
    {
        string source = SyntheticCifar.Write(_dir.Combine("source"), 40, 20);
        var tarball = SyntheticCifar.Tarball(source);
        using var listener = new HttpListener();
        int port = FreePort.Next();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serve = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.ContentLength64 = tarball.Length;
            await context.Response.OutputStream.WriteAsync(tarball);
            context.Response.Close();
        });
        using var http = new HttpClient();
        string folder = _dir.Combine("cache");

        string found = await Cifar100.EnsureAsync(folder, new Downloader(http), [new Uri($"http://127.0.0.1:{port}/")],
            Convert.ToHexStringLower(MD5.HashData(tarball)));
        await serve;

        Assert.Equal(folder, found);
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "train.bin")), File.ReadAllBytes(Path.Combine(folder, "train.bin")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "test.bin")), File.ReadAllBytes(Path.Combine(folder, "test.bin")));
        // Present now: no second download.
        Assert.Equal(folder, await Cifar100.EnsureAsync(folder, new Downloader(http), [new Uri("http://127.0.0.1:9/")], "0"));
    }

    [Fact]
    public void Net_shapes_follow_the_config_and_width()
    {
        var config = new CifarCoarseNetConfig { Width = 2 };
        Assert.Equal((64, 128, 8192), (config.Block1Channels, config.Block2Channels, config.FlattenedSize));
        Assert.Equal(4096, new CifarCoarseNetConfig().FlattenedSize);
        using var model = new CifarCoarseNet(new CifarCoarseNetConfig());
        using var output = model.call(zeros(2, 3, 32, 32));
        Assert.Equal([2L, 20], output.shape);
        var keys = model.state_dict().Keys.ToList();
        Assert.Equal(["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight", "conv2.bias"], keys.Take(6));
        Assert.Contains("bn4.running_var", keys);
        Assert.Contains("fc2.bias", keys);
        Assert.Equal(1_119_924, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Crop_flip_shifts_by_whole_pixels_with_zero_fill_and_mirrors()
    {
        using var scope = NewDisposeScope();
        var image = arange(16, dtype: ScalarType.Float32).view(1, 1, 4, 4) + 1;
        var batch = image.expand(64, 1, 4, 4).contiguous();
        using var generator = new Generator(3);
        var output = new CropFlip(Padding: 1).Apply(batch, generator);
        var values = image.flatten().data<float>().ToArray().Append(0f).ToHashSet();
        Assert.All(output.flatten().data<float>().ToArray(), v => Assert.Contains(v, values));
        // Some images are mirrored: their first row reads right to left.
        Assert.Contains(Enumerable.Range(0, 64), i => output[i, 0, 1, 1].item<float>() > output[i, 0, 1, 2].item<float>());
    }

    [Fact]
    public async Task The_net_learns_the_coarse_label_of_generated_data()
    {
        string data = SyntheticCifar.Write(_dir.Combine("data"), 700, 150);
        var recipe = Recipes.Recipes.Cifar;
        var options = recipe.Defaults(recipe.DefaultDataset) with { Epochs = 5, BatchSize = 32, LearningRate = 3e-3, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Patience = 0 };
        using var prepared = await recipe.PrepareAsync(new RunRequest(recipe.DefaultDataset, options, Width: 0.5, Data: new DataRequest(data)), downloader: null);
        var training = prepared.Data;
        Assert.Equal((630, 70, 150), (training.Info.TrainCount, training.Info.ValidationCount, training.Info.TestCount));
        Assert.Equal(3, training.Normalization.Mean.Count);
        var run = new RunFolder(_dir.Combine("run"));

        var outcome = new Trainer(run, prepared.Config, training).Fit(resume: false);

        Assert.True(outcome.Summary!.TestAccuracy >= 0.9, $"test accuracy {outcome.Summary.TestAccuracy}");
        var saved = run.ReadConfig();
        Assert.IsType<CifarCoarseNetConfig>(saved.Model);
        Assert.Equal(CifarLabels.Coarse, saved.Data.Labels);
        Assert.Contains("\"labels\": \"coarse\"", File.ReadAllText(run.File(RunFolder.ConfigFile)));
        using var reloaded = await Datasets.ReloadAsync(saved);
        Assert.Equal(training.Info.ClassNames, reloaded.Info.ClassNames);
        Assert.Equal(training.Info with { ClassNames = [] }, reloaded.Info with { ClassNames = [] });
    }

    [Fact]
    public async Task The_net_reads_the_embedded_digits_with_handwriting_jitter_and_reloads_them()
    {
        var recipe = Recipes.Recipes.Cifar;
        var digits = recipe.Dataset("digits");
        var options = recipe.Defaults(digits) with { Epochs = 2, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Patience = 0 };
        Assert.Equal(Recipes.Recipes.LeNet.Defaults(digits), recipe.Defaults(digits));
        using var prepared = await recipe.PrepareAsync(new RunRequest(digits, options, Width: 0.25), downloader: null);
        var model = Assert.IsType<CifarCoarseNetConfig>(prepared.Config.Model);
        Assert.Equal((1, 28, 10), (model.InChannels, model.ImageSize, model.NumClasses));
        var run = new RunFolder(_dir.Combine("digits"));

        var outcome = new Trainer(run, prepared.Config, prepared.Data).Fit(resume: false);

        // Chance is 10 %; two epochs at a quarter of the width read 95.2 % of the 1,000 test digits (the jitter itself is
        // asserted below).
        Assert.True(outcome.Summary!.TestAccuracy >= 0.9, $"test accuracy {outcome.Summary.TestAccuracy}");
        var saved = run.ReadConfig();
        Assert.Same(recipe, Recipes.Recipes.For(saved));
        using var reloaded = await Datasets.ReloadAsync(saved);
        Assert.Equal(prepared.Data.Info with { ClassNames = [] }, reloaded.Info with { ClassNames = [] });
    }

    [Fact]
    public void Augmentation_follows_the_data_not_the_net()
    {
        var options = new TrainOptions { Augment = true, StrokeChange = 0.5 };
        Assert.IsType<CropFlip>(Augmentations.For(Cnn.Contracts.PreprocessingKind.Color, options, 0.5));
        var jitter = Assert.IsType<AffineJitter>(Augmentations.For(Cnn.Contracts.PreprocessingKind.Digit, options, 0.13));
        Assert.Equal(0.5, jitter.StrokeChange);
        Assert.IsType<AffineJitter>(Augmentations.For(Cnn.Contracts.PreprocessingKind.Gray, options, 0.29));
        Assert.IsType<Chained>(Augmentations.For(Cnn.Contracts.PreprocessingKind.Digit, options with { Photos = 0.5 }, 0.13));
    }
}

public sealed class CifarDeterminismTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Batch_norm_and_dropout_runs_are_repeatable_and_resume_exactly()
    {
        string data = SyntheticCifar.Write(_dir.Combine("data"), 200, 40);
        var recipe = Recipes.Recipes.Cifar;
        var options = recipe.Defaults(recipe.DefaultDataset) with { Epochs = 3, BatchSize = 32, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Patience = 0, Scheduler = SchedulerKind.Cosine };
        async Task<RunFolder> Train(string name, CancellationTokenSource? cancelAfterFirst = null)
        {
            using var prepared = await recipe.PrepareAsync(new RunRequest(recipe.DefaultDataset, options, Width: 0.25, Data: new DataRequest(data)), downloader: null);
            var run = new RunFolder(_dir.Combine(name));
            var observer = cancelAfterFirst == null ? null : new CancelAfterFirst(cancelAfterFirst);
            new Trainer(run, prepared.Config, prepared.Data, observer).Fit(resume: false, cancelAfterFirst?.Token ?? default);
            return run;
        }

        var a = await Train("a");
        var b = await Train("b");
        Assert.Equal(File.ReadAllBytes(a.File(RunFolder.WeightsFile)), File.ReadAllBytes(b.File(RunFolder.WeightsFile)));

        using var cancel = new CancellationTokenSource();
        var part = await Train("part", cancel);
        Assert.False(File.Exists(part.File(RunFolder.SummaryFile)));
        using (var training = await Datasets.ReloadAsync(part.ReadConfig()))
        {
            new Trainer(part, part.ReadConfig(), training).Fit(resume: true);
        }

        Assert.Equal(File.ReadAllBytes(a.File(RunFolder.WeightsFile)), File.ReadAllBytes(part.File(RunFolder.WeightsFile)));
    }

    private sealed class CancelAfterFirst(CancellationTokenSource source) : ITrainingObserver
    {
        public void EpochCompleted(EpochMetrics metrics, bool improved) => source.Cancel();
    }
}
