using Cnn.Train.Data;
using Cnn.Train.Models;

namespace Cnn.Train.Training;

/// <summary>Defaults and data preparation for LeNet-5 on the MNIST-format data sets.</summary>
public static class LeNetRecipe
{
    /// <summary>Peak learning rate of the one-cycle schedule (it starts at 1/25 of it): measured best of 1e-3, 2e-3 and 3e-3.</summary>
    public const double LearningRate = 3e-3;

    /// <summary>
    /// The defaults of <c>cnn train lenet</c> per data set. digits-5k has only 3,667 training images, so it gets more
    /// epochs, more patience and augmentation; the 55,000-image sets converge within 15 epochs. Fashion-MNIST's
    /// garments are not rotated or shifted like handwriting, so it trains without the affine jitter.
    /// </summary>
    public static TrainOptions Defaults(MnistDataset dataset) => dataset switch
    {
        MnistDataset.Digits => new TrainOptions { Epochs = 30, LearningRate = LearningRate, Patience = 10, Scheduler = SchedulerKind.OneCycle, Augment = true },
        MnistDataset.Mnist => new TrainOptions { Epochs = 15, LearningRate = LearningRate, Patience = 5, Scheduler = SchedulerKind.OneCycle, Augment = true },
        MnistDataset.FashionMnist => new TrainOptions { Epochs = 15, LearningRate = LearningRate, Patience = 5, Scheduler = SchedulerKind.OneCycle, Augment = false },
        _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "unknown data set"),
    };

    /// <summary>LeNet-5 for images of the data set's size and class count.</summary>
    public static LeNet5Config Model(TrainingData data, double width) => new()
    {
        InChannels = data.Info.Channels,
        ImageSize = data.Info.Height,
        NumClasses = data.Info.ClassNames.Count,
        Width = width,
    };

    /// <summary>
    /// Reads the four files, splits the train file into train / validation with <see cref="TrainOptions.Seed"/> and
    /// measures the normalisation on the train split.
    /// </summary>
    public static TrainingData Load(MnistFiles files, string datasetName, IReadOnlyList<string> classNames, TrainOptions options)
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

/// <summary>Reloads the data a run was trained on, from its config.json, with the same split.</summary>
public static class RunData
{
    public static async Task<TrainingData> LoadAsync(RunConfig config, CancellationToken cancel = default)
    {
        if (config.Data.Dataset == CifarRecipe.DatasetName)
        {
            var labels = config.Data.Labels == "fine" ? CifarLabels.Fine : CifarLabels.Coarse;
            return CifarRecipe.Load(config.Data.Source, labels, config.Training);
        }

        var dataset = DatasetCatalog.Parse(config.Data.Dataset);
        var files = config.Data.Source.StartsWith("embedded:", StringComparison.Ordinal)
            ? await DatasetCatalog.LocateAsync(dataset, null, null, cancel).ConfigureAwait(false)
            : MnistFiles.InFolder(config.Data.Source);
        return LeNetRecipe.Load(files, config.Data.Dataset, config.Data.ClassNames, config.Training);
    }
}
