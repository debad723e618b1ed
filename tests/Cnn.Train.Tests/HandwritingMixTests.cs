using Cnn.Tests;
using Cnn.Train.Data;
using Cnn.Train.Data.Handwriting;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

/// <summary>The renderer and the <c>handwriting</c> data set on small generated MNIST and outside collections.</summary>
public sealed class HandwritingMixTests : IDisposable
{
    private static readonly TrainOptions Tiny = new()
    {
        Epochs = 1, BatchSize = 32, LearningRate = 3e-3, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Seed = 5, Patience = 0,
        ValidationFraction = 0.2, SourceRenders = 2,
    };

    private readonly TempFolder _dir = new();
    private readonly string _mnist;
    private readonly string _sources;

    public HandwritingMixTests()
    {
        _mnist = SyntheticMnist.Write(_dir.Combine("mnist"), trainCount: 100, testCount: 20);
        _sources = SyntheticHandwriting.Write(_dir.Combine("sources"));
    }

    public void Dispose() => _dir.Dispose();

    private static Dataset Handwriting => Datasets.Handwriting;

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static readonly StrokeInk Seven = new([[0f, 0f, 20f, 0f, 8f, 30f]]);

    [Fact]
    public void A_rendering_repeats_bit_for_bit_from_its_seed_and_differs_with_another()
    {
        var first = InkRenderer.Prepare(Seven, HandRenders.RandomFor(3, 10, 0), 28, 28, 0.13, deskew: false);
        var again = InkRenderer.Prepare(Seven, HandRenders.RandomFor(3, 10, 0), 28, 28, 0.13, deskew: false);
        var other = InkRenderer.Prepare(Seven, HandRenders.RandomFor(3, 10, 1), 28, 28, 0.13, deskew: false);
        Assert.NotNull(first);
        Assert.Equal(28 * 28, first.Length);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void The_drawing_has_the_pen_on_paper_where_the_strokes_are()
    {
        // A horizontal bar: dark ink along the middle rows of the canvas, light paper at the top and bottom corners.
        var image = InkRenderer.Draw(new StrokeInk([[0f, 0f, 100f, 0f]]), new Random(1));
        var rgba = image.Rgba.ToArray();
        byte At(int x, int y) => rgba[4 * ((y * image.Width) + x)];
        Assert.True(image.Width > 2 * image.Height, $"{image.Width}×{image.Height}");
        Assert.True(At(image.Width / 2, image.Height / 2) < At(0, 0), $"ink {At(image.Width / 2, image.Height / 2)}, paper {At(0, 0)}");
    }

    [Fact]
    public void Renderings_do_not_depend_on_the_number_of_threads()
    {
        var digits = HandwritingSources.Read(_sources).Digits;
        var one = HandRenders.Render(digits, 2, seed: 9, 28, 28, 0.13, deskew: false, threads: 1);
        var two = HandRenders.Render(digits, 2, seed: 9, 28, 28, 0.13, deskew: false, threads: 2);
        Assert.Equal(one.Pixels, two.Pixels);
        Assert.Equal(one.Labels, two.Labels);
        Assert.Equal(2 * digits.Count, one.Count + one.NoInk);
    }

    /// <summary>
    /// The mix over generated MNIST-format files: the recipe reads MNIST as pinned, so generated files go through the
    /// same loader and <see cref="HandwritingMix.Add"/> the recipe calls.
    /// </summary>
    private TrainingData Mix(TrainOptions options) =>
        HandwritingMix.Add(MnistOnly(options), HandwritingSources.Read(_sources), options, Datasets.Handwriting.Name);

    private TrainingData MnistOnly(TrainOptions options) =>
        Datasets.Mnist.Load(MnistFiles.InFolder(_mnist), options);

    [Fact]
    public void The_mix_trains_on_MNIST_and_the_training_writers_and_validates_on_MNIST_and_the_selection_writers()
    {
        using var mnistOnly = MnistOnly(Tiny);
        using var mixed = Mix(Tiny);
        var digits = HandwritingSources.Read(_sources).Digits;
        var split = WriterSplit.Assign(digits);
        int training = split.Count(s => s == HandSplit.Training), selection = split.Count(s => s == HandSplit.Selection);
        Assert.Equal(mnistOnly.Train.Count + (2 * training), mixed.Train.Count);
        Assert.Equal(mnistOnly.Validation.Count + (HandwritingMix.SelectionRenders * selection), mixed.Validation.Count);
        Assert.Equal(mnistOnly.Test.Count, mixed.Test.Count);
        Assert.True(Same(mnistOnly.Train.Images, mixed.Train.Images.narrow(0, 0, mnistOnly.Train.Count)));
        Assert.True(Same(mnistOnly.Validation.Images, mixed.Validation.Images.narrow(0, 0, mnistOnly.Validation.Count)));
        Assert.Equal(mnistOnly.Normalization.Mean, mixed.Normalization.Mean);
        Assert.Equal(mnistOnly.Normalization.Std, mixed.Normalization.Std);
        Assert.Equal("handwriting", mixed.Info.Dataset);
        Assert.Equal(Path.GetFullPath(_sources), mixed.Info.Sources);
        Assert.Equal(mixed.Train.Count, mixed.Info.TrainCount);
        Assert.Equal(mixed.Validation.Count, mixed.Info.ValidationCount);
    }

    [Fact]
    public void The_mix_repeats_for_a_seed_its_training_renderings_change_with_the_seed_and_its_selection_does_not()
    {
        using var first = Mix(Tiny);
        using var again = Mix(Tiny);
        using var other = Mix(Tiny with { Seed = 6, SplitSeed = 5 });
        Assert.True(Same(first.Train.Images, again.Train.Images));
        Assert.True(Same(first.Validation.Images, again.Validation.Images));
        Assert.False(Same(first.Train.Images, other.Train.Images));
        Assert.True(Same(first.Validation.Images, other.Validation.Images));
    }

    [Fact]
    public void A_run_trains_on_the_mix()
    {
        using var data = Mix(Tiny);
        var config = new RunConfig(Recipes.Recipes.LeNet.Model(data.Info, 0.5), Tiny, data.Info, data.Normalization, VersionInfo.Current());
        var result = new Trainer(new RunFolder(_dir.Combine("run")), config, data).Fit(resume: false);
        Assert.Equal(1, result.EpochsDone);
    }

    [Fact]
    public void Source_renderings_are_for_the_handwriting_data_set_only()
    {
        var mnist = Recipes.Recipes.LeNet.Dataset("mnist");
        var e = Assert.Throws<ArgumentException>(() => mnist.Check(Tiny, n => n));
        Assert.Equal("SourceRenders is 2 for mnist; it mixes the outside collections into --dataset handwriting only", e.Message);
        e = Assert.Throws<ArgumentException>(() => Handwriting.Check(Tiny with { SourceRenders = 0 }, n => n));
        Assert.Equal("SourceRenders is 0 for handwriting; expected 1..16 renderings of each outside digit (without them it is --dataset mnist)", e.Message);
        Assert.Equal(HandwritingDataset.DefaultSourceRenders, Recipes.Recipes.LeNet.Defaults(Handwriting).SourceRenders);
        Assert.Equal(0, Recipes.Recipes.LeNet.Defaults(mnist).SourceRenders);
    }

    [Fact]
    public async Task A_missing_sources_folder_is_refused_before_MNIST_is_read()
    {
        string missing = _dir.Combine("nowhere");
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => Recipes.Recipes.LeNet.PrepareAsync(new RunRequest(Handwriting, Tiny, Data: new DataRequest(_dir.Combine("no-mnist"), SourcesFolder: missing)), downloader: null));
        Assert.StartsWith($"{missing}: missing unipen_1a, ", e.Message);
    }
}
