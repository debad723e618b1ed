using Cnn.Contracts;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;

namespace Cnn.Train.Recipes;

/// <summary>LeNet-5 on the MNIST-format data sets: digits-5k (embedded, the default), MNIST and Fashion-MNIST.</summary>
public sealed class LeNetRecipe : Recipe
{
    /// <summary>Peak learning rate of the one-cycle schedule (it starts at 1/25 of it): measured best of 1e-3, 2e-3 and 3e-3.</summary>
    public const double LearningRate = 3e-3;

    private static readonly DatasetSpec DigitsSpec = new("digits", "5,000 real MNIST digits, embedded", PreprocessingKind.Digit);
    private static readonly DatasetSpec MnistSpec = new("mnist", "MNIST, downloaded and checked against its MD5s", PreprocessingKind.Digit);
    private static readonly DatasetSpec FashionSpec = new("fashion-mnist", "Fashion-MNIST: Debian's dataset-fashion-mnist or a download", PreprocessingKind.Gray);

    private static readonly Dictionary<DatasetSpec, MnistDataset> Catalog = new()
    {
        [DigitsSpec] = MnistDataset.Digits,
        [MnistSpec] = MnistDataset.Mnist,
        [FashionSpec] = MnistDataset.FashionMnist,
    };

    internal LeNetRecipe()
    {
    }

    /// <inheritdoc />
    public override string Name => "lenet";

    /// <inheritdoc />
    public override string Summary => "LeNet-5 on MNIST-format digits (digits-5k by default, mnist, fashion-mnist).";

    /// <inheritdoc />
    public override IReadOnlyList<DatasetSpec> Datasets { get; } = [DigitsSpec, MnistSpec, FashionSpec];

    /// <summary>
    /// digits-5k has only 3,667 training images, so it gets more epochs, more patience and augmentation; the
    /// 55,000-image sets converge within 15 epochs. Fashion-MNIST's garments are not rotated or shifted like
    /// handwriting, so it trains without the affine jitter.
    /// </summary>
    public override TrainOptions Defaults(DatasetSpec dataset)
    {
        var common = new TrainOptions { LearningRate = LearningRate, Scheduler = SchedulerKind.OneCycle, Threads = Environment.ProcessorCount };
        return Catalog[dataset] switch
        {
            MnistDataset.Digits => common with { Epochs = 30, Patience = 10, Augment = true },
            MnistDataset.Mnist => common with { Epochs = 15, Patience = 5, Augment = true },
            _ => common with { Epochs = 15, Patience = 5, Augment = false },
        };
    }

    /// <inheritdoc />
    public override ModelConfig Model(DataInfo data, double width) => new LeNet5Config
    {
        InChannels = data.Channels,
        ImageSize = data.Height,
        NumClasses = data.ClassNames.Count,
        Width = width,
    };

    /// <inheritdoc />
    public override async Task<TrainingData> ReloadAsync(RunConfig config, CancellationToken cancel = default)
    {
        var dataset = Catalog[Dataset(config.Data.Dataset)];
        var files = config.Data.Source.StartsWith(MnistFiles.EmbeddedPrefix, StringComparison.Ordinal)
            ? await DatasetCatalog.LocateAsync(dataset, null, null, cancel).ConfigureAwait(false)
            : MnistFiles.InFolder(config.Data.Source);
        return Load(files, config.Data.Dataset, config.Data.ClassNames, config.Training);
    }

    /// <inheritdoc />
    protected override async Task<TrainingData> LoadAsync(RunRequest request, TrainOptions options, Downloader? downloader, CancellationToken cancel)
    {
        var dataset = Catalog[request.Dataset];
        var files = await DatasetCatalog.LocateAsync(dataset, request.DataFolder, downloader, cancel).ConfigureAwait(false);
        return Load(files, request.Dataset.Name, DatasetCatalog.ClassNames(dataset), options);
    }

    /// <summary>
    /// Reads the four files, splits the train file into train / validation with <see cref="TrainOptions.Seed"/> and
    /// measures the normalisation on the train split.
    /// </summary>
    internal static TrainingData Load(MnistFiles files, string datasetName, IReadOnlyList<string> classNames, TrainOptions options)
    {
        var (trainImages, trainLabels) = files.Read(train: true, classNames.Count);
        var (testImages, testLabels) = files.Read(train: false, classNames.Count);
        if (trainImages.Rows != testImages.Rows || trainImages.Columns != testImages.Columns)
        {
            throw new InvalidDataException(
                $"{testImages.Source}: images are {testImages.Rows}×{testImages.Columns}; expected {trainImages.Rows}×{trainImages.Columns} like {trainImages.Source}");
        }

        return TrainingData.FromSplit(trainImages, trainLabels, testImages, testLabels, 1, classNames, options, datasetName, files.Description);
    }
}
