using Cnn.Train.Training;
using static TorchSharp.torch;

namespace Cnn.Train.Data.Handwriting;

/// <summary>
/// The <c>handwriting</c> data set: MNIST with the outside collections mixed in. Training gets MNIST's training split
/// and every training digit of the collections — with <see cref="TrainOptions.StyleCopies"/> styled copies of its pen
/// zeros and ones — rendered <see cref="TrainOptions.SourceRenders"/> times (new styles per run seed); validation gets
/// MNIST's validation split and the writer-disjoint selection split rendered <see cref="SelectionRenders"/> times with
/// a fixed seed, so every run is chosen on the same images; the test set is
/// MNIST's. The normalisation is MNIST's training split's, the stroke weight the renderings were prepared for.
/// </summary>
public static class HandwritingMix
{
    /// <summary>Renderings of each selection digit.</summary>
    public const int SelectionRenders = 2;

    /// <summary>The selection renderings' seed, the same for every run.</summary>
    public const long SelectionSeed = 20261207;

    /// <summary>MNIST's <paramref name="mnist"/> with the collections added; takes <paramref name="mnist"/> over (its test set moves into the result).</summary>
    public static TrainingData Add(TrainingData mnist, HandwritingSources sources, TrainOptions options, string datasetName)
    {
        ImageSet? train = null;
        try
        {
            var split = WriterSplit.Assign(sources.Digits);
            var info = mnist.Info;
            double targetInk = mnist.Normalization.Mean[0];
            var training = sources.Digits.Where((_, i) => split[i] == HandSplit.Training).ToList();
            // Appended after the originals, whose renderings (seeded by their place) stay what they were without them.
            training.AddRange(StyleSynthesis.Copies(training, options.StyleCopies, options.Seed));
            var selection = sources.Digits.Where((_, i) => split[i] == HandSplit.Selection).ToList();
            var trainRenders = HandRenders.Render(training, options.SourceRenders, options.Seed, info.Height, info.Width, targetInk, options.Deskew, options.Threads);
            var selectRenders = Selection(selection, info.Height, info.Width, targetInk, options.Deskew, options.Threads);
            train = Concat(mnist.Train, trainRenders, info);
            var validation = Concat(mnist.Validation, selectRenders, info);
            mnist.Train.Dispose();
            mnist.Validation.Dispose();
            var mixed = info with
            {
                Dataset = datasetName,
                TrainCount = train.Count,
                ValidationCount = validation.Count,
                Sources = sources.Folder,
            };
            return new TrainingData(train, validation, mnist.Test, mnist.Normalization, mixed);
        }
        catch
        {
            train?.Dispose();
            mnist.Dispose();
            throw;
        }
    }

    /// <summary>The selection split rendered as every run's validation sees it.</summary>
    public static HandRenders Selection(IReadOnlyList<HandDigit> selection, int height, int width, double targetInk, bool deskew, int threads) =>
        HandRenders.Render(selection, SelectionRenders, SelectionSeed, height, width, targetInk, deskew, threads);

    private static ImageSet Concat(ImageSet first, HandRenders renders, DataInfo info)
    {
        using var scope = NewDisposeScope();
        var images = tensor(renders.Pixels, ScalarType.Byte).view(renders.Count, 1, info.Height, info.Width);
        var labels = tensor(renders.Labels, ScalarType.Byte).to_type(ScalarType.Int64);
        return new ImageSet(cat([first.Images, images], 0), cat([first.Labels, labels], 0), first.ClassNames);
    }
}
