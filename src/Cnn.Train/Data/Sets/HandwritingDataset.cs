using Cnn.Contracts;
using Cnn.Train.Data.Handwriting;
using Cnn.Train.Training;

namespace Cnn.Train.Data;

/// <summary>
/// <c>handwriting</c>: MNIST with the outside collections (UNIPEN, UCI optdigits and pendigits) mixed in by
/// <see cref="HandwritingMix"/>; validation holds MNIST's validation split and the writer-disjoint selection split.
/// </summary>
public sealed class HandwritingDataset : Dataset
{
    /// <summary>Renderings of each outside training digit (docs/handwriting.md: chosen by the selection rule).</summary>
    public const int DefaultSourceRenders = 2;

    private readonly MnistFormatDataset _mnist;

    internal HandwritingDataset(MnistFormatDataset mnist) => _mnist = mnist;

    /// <inheritdoc />
    public override string Name => "handwriting";

    /// <inheritdoc />
    public override string Summary => "MNIST plus pen and form digits by other people: UNIPEN, UCI optdigits and pendigits (data/get-handwriting.sh)";

    /// <inheritdoc />
    public override PreprocessingKind Preprocessing => PreprocessingKind.Digit;

    /// <summary>
    /// MNIST's options with the renderings; other people's digits raise the validation loss with a few confident
    /// misreadings while more are read right (the first run kept epoch 12 of 60 by loss: docs/handwriting.md), so the
    /// best epoch is the most accurate.
    /// </summary>
    public override TrainOptions Defaults(TrainOptions net) =>
        _mnist.Defaults(net) with { SourceRenders = DefaultSourceRenders, BestBy = BestBy.Accuracy };

    /// <inheritdoc />
    public override void Check(TrainOptions options, Func<string, string> describe)
    {
        if (options.SourceRenders == 0)
        {
            throw new ArgumentException($"{describe(nameof(TrainOptions.SourceRenders))} is 0 for {Name}; expected 1..16 renderings of each outside digit (without them it is --dataset {_mnist.Name})");
        }

        base.Check(options with { SourceRenders = 0, StyleCopies = 0 }, describe);
    }

    /// <inheritdoc />
    public override async Task<TrainingData> LoadAsync(DataRequest request, TrainOptions options, Downloader? downloader, CancellationToken cancel = default)
    {
        // The outside collections are read first: a missing folder is refused before MNIST is downloaded or read.
        var sources = HandwritingSources.Read(request.SourcesFolder ?? HandwritingSources.DefaultFolder);
        var mnist = await _mnist.LoadAsync(request, options, downloader, cancel).ConfigureAwait(false);
        return HandwritingMix.Add(mnist, sources, options, Name);
    }

    /// <inheritdoc />
    public override async Task<TrainingData> ReloadAsync(RunConfig config, CancellationToken cancel = default)
    {
        var sources = HandwritingSources.Read(config.Data.Sources ?? HandwritingSources.DefaultFolder);
        var mnist = _mnist.Load(await _mnist.SavedFilesAsync(config, cancel).ConfigureAwait(false), config.Training);
        return HandwritingMix.Add(mnist, sources, config.Training, Name);
    }
}
