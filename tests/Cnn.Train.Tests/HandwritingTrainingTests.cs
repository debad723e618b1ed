using Cnn.Contracts;
using Cnn.Inference;
using Cnn.Tests;
using Cnn.Train.Data;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

/// <summary>The pieces of training for unseen handwriting: the jitter extras, deskewed data, calibration and their checks.</summary>
public sealed class HandwritingTrainingTests : IDisposable
{
    private static readonly TrainOptions Tiny = new()
    {
        Epochs = 3, BatchSize = 32, LearningRate = 3e-3, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Seed = 5, Patience = 0, Scheduler = SchedulerKind.OneCycle,
        Augment = true, ValidationFraction = 0.2, Shear = 0.3, Elastic = 8, StrokeChange = 1, Deskew = true,
    };

    private readonly TempFolder _dir = new();
    private readonly string _data;

    public HandwritingTrainingTests()
    {
        _data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 400, testCount: 100);
    }

    public void Dispose() => _dir.Dispose();

    private TrainingData Load(TrainOptions options) =>
        Datasets.Digits.Load(MnistFiles.InFolder(_data), options);

    private (RunFolder Run, TrainOutcome Outcome) Train(string name, TrainOptions options, ITrainingObserver? observer = null, CancellationToken cancel = default)
    {
        using var data = Load(options);
        var run = new RunFolder(_dir.Combine(name));
        var config = new RunConfig(Recipes.Recipes.LeNet.Model(data.Info, 1.0), options, data.Info, data.Normalization, VersionInfo.Current());
        return (run, new Trainer(run, config, data, observer).Fit(resume: false, cancel));
    }

    /// <summary>A batch of the first synthetic digits as floats in [0, 1].</summary>
    private Tensor Batch(int n)
    {
        using var data = Load(Tiny with { Deskew = false });
        var (x, _) = data.Train.Batch(arange(n, dtype: ScalarType.Int64), CPU);
        return x.DetachFromDisposeScope();
    }

    [Fact]
    public void Stroke_change_dilates_or_erodes_each_jittered_image_with_a_cross()
    {
        using var scope = NewDisposeScope();
        var batch = Batch(64);
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        // Same generator state: the affine part is drawn first, so it is shared; the stroke draw comes after it.
        var plain = new AffineJitter().Apply(batch, g1);
        var changed = new AffineJitter(StrokeChange: 1).Apply(batch, g2);
        var thicker = torch.maximum(nn.functional.max_pool2d(plain, [1, 3], [1, 1], [0, 1]), nn.functional.max_pool2d(plain, [3, 1], [1, 1], [1, 0]));
        var thinner = -torch.maximum(nn.functional.max_pool2d(-plain, [1, 3], [1, 1], [0, 1]), nn.functional.max_pool2d(-plain, [3, 1], [1, 1], [1, 0]));
        int thick = 0, thin = 0;
        for (int i = 0; i < 64; i++)
        {
            bool isThick = changed[i].allclose(thicker[i], rtol: 0, atol: 0);
            bool isThin = changed[i].allclose(thinner[i], rtol: 0, atol: 0);
            Assert.True(isThick ^ isThin, $"image {i} is neither the dilated nor the eroded jitter");
            (thick, thin) = (thick + (isThick ? 1 : 0), thin + (isThin ? 1 : 0));
        }

        Assert.InRange(thick, 16, 48);
        Assert.Equal(64, thick + thin);
    }

    [Fact]
    public void Blur_softens_a_share_of_the_images_and_keeps_each_ones_brightest_value()
    {
        using var scope = NewDisposeScope();
        var batch = Batch(64);
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        var plain = new AffineJitter().Apply(batch, g1);
        var blurred = new AffineJitter(Blur: 0.5).Apply(batch, g2);
        int changed = 0;
        for (int i = 0; i < 64; i++)
        {
            if (blurred[i].allclose(plain[i], rtol: 0, atol: 0))
            {
                continue;
            }

            changed++;
            // Blurring spreads ink onto more pixels, and the brightest pixel keeps its value.
            Assert.True(blurred[i].gt(0.05).sum().item<long>() > plain[i].gt(0.05).sum().item<long>(), $"image {i} was changed but not spread");
            Assert.Equal(plain[i].max().item<float>(), blurred[i].max().item<float>(), 1e-5f);
        }

        Assert.InRange(changed, 16, 48);
        using var g3 = new Generator(5);
        Assert.True(new AffineJitter(Blur: 0.5).Apply(batch, g3).allclose(blurred, rtol: 0, atol: 0));
    }

    [Fact]
    public void Photos_send_a_share_of_the_images_through_the_digit_preprocessing_and_repeat_with_the_seed()
    {
        using var scope = NewDisposeScope();
        // Off-centre digits: the preprocessing puts what it reads back in the middle of the frame.
        var batch = torch.roll(Batch(64), [3, 3], [2, 3]);
        using var g1 = new Generator(11);
        using var g2 = new Generator(11);
        var photos = new PhotoRoundTrip(0.5, 0.13).Apply(batch, g1);
        Assert.True(new PhotoRoundTrip(0.5, 0.13).Apply(batch, g2).allclose(photos, rtol: 0, atol: 0));
        Assert.True(photos.min().item<float>() >= 0 && photos.max().item<float>() <= 1);
        int changed = 0;
        for (int i = 0; i < 64; i++)
        {
            if (photos[i].allclose(batch[i], rtol: 0, atol: 0))
            {
                continue;
            }

            changed++;
            var image = photos[i, 0].contiguous().data<float>().ToArray();
            var ink = Enumerable.Range(0, 784).Where(p => image[p] > 0).Select(p => (X: p % 28, Y: p / 28)).ToArray();
            int tall = ink.Max(p => p.Y) - ink.Min(p => p.Y) + 1, wide = ink.Max(p => p.X) - ink.Min(p => p.X) + 1;
            // MNIST's box: the long side 20 of 28 px, give or take the soft edges' faint rim.
            Assert.InRange(Math.Max(tall, wide), 19, 22);
            double mass = image.Sum();
            double rows = Enumerable.Range(0, 784).Sum(p => image[p] * (p / 28)) / mass;
            double columns = Enumerable.Range(0, 784).Sum(p => image[p] * (p % 28)) / mass;
            Assert.InRange(rows, 12.5, 14.5);
            Assert.InRange(columns, 12.5, 14.5);
        }

        Assert.InRange(changed, 16, 48);
        using var g3 = new Generator(11);
        Assert.True(new PhotoRoundTrip(0, 0.13).Apply(batch, g3).allclose(batch, rtol: 0, atol: 0));
    }

    [Fact]
    public void A_teacher_that_changed_since_the_run_started_is_refused_naming_both_hashes()
    {
        string teacher = _dir.Combine("teacher.onnx");
        File.WriteAllText(teacher, "the teacher the run started with");
        var settings = new Distillation(teacher) { TeacherSha256 = Distillation.Sha256Of(teacher) };
        File.WriteAllText(teacher, "another model since");
        using var data = Load(Tiny);
        var e = Assert.Throws<ArgumentException>(() => DistillationTeacher.Load(settings, data.Info, 1));
        Assert.Equal(
            $"teacher {teacher}: its SHA-256 is {Distillation.Sha256Of(teacher)}, but this run started with a teacher of SHA-256 {settings.TeacherSha256}; a run learns from one teacher, so restore that file or start a new run",
            e.Message);
    }

    [Fact]
    public void The_separable_gaussian_is_the_two_dimensional_kernel_it_replaces()
    {
        // Elastic distortion smooths its displacement field at σ 4 (a 25×25 kernel) by two 25-tap passes: the same
        // normalised Gaussian, zero outside the image, to float rounding.
        using var scope = NewDisposeScope();
        var field = torch.rand(new long[] { 3, 2, 28, 28 }, generator: new Generator(5)).mul(2).sub(1);
        int radius = 12;
        var x = torch.arange(-radius, radius + 1, dtype: ScalarType.Float32);
        var g = (-(x * x) / 32f).exp();
        var kernel = torch.outer(g, g);
        kernel = (kernel / kernel.sum()).expand(2, 1, (2 * radius) + 1, (2 * radius) + 1);
        var full = torch.nn.functional.conv2d(field, kernel, padding: new long[] { radius, radius }, groups: 2);

        var separable = AffineJitter.Gaussian(field, 4);

        Assert.True(separable.allclose(full, rtol: 0, atol: 1e-6), $"largest difference {(separable - full).abs().max().item<float>()}");
    }

    [Fact]
    public void Shear_and_elastic_distortion_move_ink_without_losing_it_and_repeat_with_the_seed()
    {
        using var scope = NewDisposeScope();
        var batch = Batch(32);
        var jitter = new AffineJitter(MaxRotationDegrees: 0, MaxScale: 0, MaxShiftPixels: 0, MaxShear: 0.3, ElasticAlpha: 8);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        var a = jitter.Apply(batch, g1);
        var b = jitter.Apply(batch, g2);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
        Assert.False(a.allclose(batch, rtol: 0, atol: 1e-3));
        // Ink moves; about as much of it stays in the frame (bilinear resampling blurs, it does not delete).
        var before = batch.sum([1, 2, 3]);
        var after = a.sum([1, 2, 3]);
        Assert.True((after / before).sub(1).abs().max().item<float>() < 0.15f);

        // With every extra at 0 nothing more is drawn: the jitter is the earlier rotation, scale and shift alone.
        using var g3 = new Generator(9);
        using var g4 = new Generator(9);
        var old = new AffineJitter().Apply(batch, g3);
        var zeroExtras = new AffineJitter(MaxShear: 0, ElasticAlpha: 0, StrokeChange: 0, Blur: 0).Apply(batch, g4);
        Assert.True(old.allclose(zeroExtras, rtol: 0, atol: 0));
        Assert.True(torch.rand(1, generator: g3).allclose(torch.rand(1, generator: g4), rtol: 0, atol: 0));
    }

    [Fact]
    public void Deskewed_data_is_moment_deskew_of_each_image_rounded_to_bytes()
    {
        var images = new IdxImages("x", 3, 28, 28, [.. Enumerable.Range(0, 3 * 784).Select(i => (byte)(((i * 37) % 251) < 40 ? 255 : 0))]);
        var deskewed = MnistFormatDataset.Deskewed(images);
        for (int n = 0; n < 3; n++)
        {
            var source = images.Pixels.AsSpan(n * 784, 784).ToArray().Select(b => b / 255f).ToArray();
            var expected = new float[784];
            MomentDeskew.Apply(source, expected, 28, 28);
            Assert.Equal(expected.Select(v => (byte)Math.Clamp(MathF.Round(v * 255f), 0, 255)), deskewed.Pixels.AsSpan(n * 784, 784).ToArray());
        }

        Assert.NotEqual(images.Pixels, deskewed.Pixels);
    }

    [Fact]
    public void A_run_with_every_handwriting_option_is_repeatable_and_resumes_exactly()
    {
        var (whole, _) = Train("whole", Tiny);
        var (again, _) = Train("again", Tiny);
        Assert.Equal(File.ReadAllBytes(whole.File(RunFolder.WeightsFile)), File.ReadAllBytes(again.File(RunFolder.WeightsFile)));

        using var cancel = new CancellationTokenSource();
        var (part, outcome) = Train("part", Tiny, new CancelAfter(1, cancel), cancel.Token);
        Assert.True(outcome.Interrupted);
        using (var data = Load(Tiny))
        {
            new Trainer(part, part.ReadConfig(), data).Fit(resume: true);
        }

        Assert.Equal(File.ReadAllBytes(whole.File(RunFolder.WeightsFile)), File.ReadAllBytes(part.File(RunFolder.WeightsFile)));
        var summary = part.ReadSummary();
        Assert.InRange(summary.Temperature, 0.05, 20);
        Assert.InRange(summary.TestEce, 0, 1);
        Assert.InRange(summary.TestEceCalibrated, 0, 1);
        Assert.True(part.ReadConfig().Training.Deskew);
    }

    [Fact]
    public void Temperature_scaling_recovers_the_temperature_that_made_the_labels()
    {
        // Labels drawn from softmax(z / 2.5): the likeliest T for logits z is 2.5.
        var random = new Random(4);
        const int n = 4000, classes = 10;
        var logits = new float[n * classes];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < classes; c++)
            {
                logits[(i * classes) + c] = (float)(random.NextDouble() * 12);
            }

            var p = logits.AsSpan(i * classes, classes).ToArray().Select(v => Math.Exp(v / 2.5)).ToArray();
            double u = random.NextDouble() * p.Sum(), sum = 0;
            labels[i] = Array.FindIndex(p, v => (sum += v) >= u);
        }

        Assert.Equal(2.5, TemperatureScaling.Fit(logits, classes, labels), 0.15);
        double before = TemperatureScaling.Ece(TemperatureScaling.Confidences(logits, classes, labels, 1));
        double after = TemperatureScaling.Ece(TemperatureScaling.Confidences(logits, classes, labels, 2.5));
        Assert.True(after < 0.03 && before > 3 * after, $"ECE {before} at T=1, {after} at T=2.5");
    }

    [Fact]
    public void Ece_weighs_each_bins_gap_between_accuracy_and_confidence()
    {
        // Bin 0.9: confidence 0.95, 1 of 2 right (gap 0.45); bin 0.6: confidence 0.6, 1 of 1 right (gap 0.4).
        var results = new (float, bool)[] { (0.95f, true), (0.95f, false), (0.6f, true) };
        Assert.Equal((2 * 0.45 / 3) + (0.4 / 3), TemperatureScaling.Ece(results), 1e-6);
        var bins = TemperatureScaling.Reliability(results);
        Assert.Equal([(6, 1), (9, 2)], bins.Select(b => (b.Bin, b.Count)));
    }

    [Fact]
    public void Options_that_do_not_apply_are_refused_naming_the_option()
    {
        var lenet = Recipes.Recipes.LeNet;
        var fashion = lenet.Dataset("fashion-mnist");
        var e = Assert.Throws<ArgumentException>(() => fashion.Check(lenet.Defaults(fashion) with { Deskew = true }, n => $"--{n.ToLowerInvariant()}"));
        Assert.Equal("--deskew is on for fashion-mnist; deskewing is for handwritten digits (digits, mnist or handwriting)", e.Message);

        var digits = lenet.DefaultDataset;
        var off = Assert.Throws<ArgumentException>(() => digits.Check(lenet.Defaults(digits) with { Augment = false, StrokeChange = 0.5 }, n => n));
        Assert.Equal("StrokeChange is 0.5 with augmentation off; it is part of the augmentation, so turn that on or leave it out", off.Message);

        var cifar = Recipes.Recipes.Cifar;
        var c = Assert.Throws<ArgumentException>(() => cifar.DefaultDataset.Check(cifar.Defaults(cifar.DefaultDataset) with { Elastic = 8 }, n => n));
        Assert.Equal("Elastic is for grey images (--dataset digits, mnist, handwriting or fashion-mnist); cifar100 is augmented by crop and flip only", c.Message);
        // On the digit sets the CIFAR net takes LeNet-5's handwriting options, and the data set's checks of them.
        var mnist = cifar.Dataset("mnist");
        mnist.Check(cifar.Defaults(mnist) with { Elastic = 34, Shear = 0.3, Photos = 0.5 }, n => n);
        var cifarOff = Assert.Throws<ArgumentException>(() => mnist.Check(cifar.Defaults(mnist) with { Augment = false, StrokeChange = 0.5 }, n => n));
        Assert.Equal(off.Message, cifarOff.Message);

        digits.Check(lenet.Defaults(digits), n => n);
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
}
