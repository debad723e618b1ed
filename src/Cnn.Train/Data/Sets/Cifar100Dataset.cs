using Cnn.Contracts;
using Cnn.Train.Training;

namespace Cnn.Train.Data;

/// <summary><c>cifar100</c>: CIFAR-100's binary version, with its 20 coarse labels or its 100 fine ones.</summary>
public sealed class Cifar100Dataset : Dataset
{
    /// <summary>The data set's name in config.json.</summary>
    public const string DatasetName = "cifar100";

    internal Cifar100Dataset()
    {
    }

    /// <inheritdoc />
    public override string Name => DatasetName;

    /// <inheritdoc />
    public override string Summary => "CIFAR-100's binary version (train.bin, test.bin), downloaded when missing";

    /// <inheritdoc />
    public override PreprocessingKind Preprocessing => PreprocessingKind.Color;

    /// <summary>
    /// Up to 30 epochs, crop-and-flip augmentation, early stopping after 8 epochs without a better validation loss,
    /// a 45,000 / 5,000 split.
    /// </summary>
    public override TrainOptions Defaults(TrainOptions net) => net with { Epochs = 30, Patience = 8, Augment = true, ValidationFraction = 0.1 };

    /// <inheritdoc />
    public override async Task<TrainingData> LoadAsync(DataRequest request, TrainOptions options, Downloader? downloader, CancellationToken cancel = default)
    {
        string folder = request.Folder ?? DatasetCatalog.CacheFolder(Name);
        string found = downloader == null ? folder : await Cifar100.EnsureAsync(folder, downloader, cancel: cancel).ConfigureAwait(false);
        return Load(found, request.Labels, options);
    }

    /// <inheritdoc />
    public override Task<TrainingData> ReloadAsync(RunConfig config, CancellationToken cancel = default) =>
        Task.FromResult(Load(config.Data.Source, config.Data.Labels ?? CifarLabels.Coarse, config.Training));

    /// <summary>Reads train.bin and test.bin from <paramref name="folder"/>, splits and measures per-channel normalisation.</summary>
    public TrainingData Load(string folder, CifarLabels labels, TrainOptions options)
    {
        string found = Cifar100.FindFolder(folder)
            ?? throw new FileNotFoundException($"{folder}: expected {Cifar100.TrainFile} and {Cifar100.TestFile} (CIFAR-100 binary version) there or in cifar-100-binary/");
        var names = Cifar100.ClassNames(labels);
        var (trainImages, trainLabels) = Cifar100.Read(Path.Combine(found, Cifar100.TrainFile), labels);
        var (testImages, testLabels) = Cifar100.Read(Path.Combine(found, Cifar100.TestFile), labels);
        return TrainingData.FromSplit(trainImages, trainLabels, testImages, testLabels, Cifar100.Channels, names, options, this, Path.GetFullPath(found), labels);
    }
}
