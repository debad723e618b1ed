using Cnn.Train.Data;

namespace Cnn.Train.Training;

/// <summary>The data of a run: train / validation / test sets and the normalisation measured on train. Owns the tensors: dispose it.</summary>
public sealed class TrainingData(ImageSet train, ImageSet validation, ImageSet test, Normalization normalization, DataInfo info) : IDisposable
{
    public ImageSet Train { get; } = train;
    public ImageSet Validation { get; } = validation;
    public ImageSet Test { get; } = test;
    public Normalization Normalization { get; } = normalization;
    public DataInfo Info { get; } = info;

    /// <summary>
    /// Holds out <see cref="TrainOptions.ValidationFraction"/> of the train file with a permutation drawn from
    /// <see cref="TrainOptions.Seed"/>, measures the normalisation on what is left, and wraps all three sets; every
    /// data set's loader ends here.
    /// </summary>
    public static TrainingData FromSplit(
        IdxImages trainImages, IdxLabels trainLabels, IdxImages testImages, IdxLabels testLabels, int channels,
        IReadOnlyList<string> classNames, TrainOptions options, Dataset dataset, string source, CifarLabels? labels = null)
    {
        int validationCount = (int)Math.Round(trainImages.Count * options.ValidationFraction);
        if (validationCount < 1 || validationCount >= trainImages.Count)
        {
            throw new InvalidDataException(
                $"{trainImages.Source}: {trainImages.Count} training images with validation fraction {options.ValidationFraction} leave {validationCount} for validation; expected 1..{trainImages.Count - 1}");
        }

        using var all = ImageSet.FromIdx(trainImages, trainLabels, classNames, channels);
        var (train, validation) = all.Split(validationCount, options.SplitSeed ?? options.Seed);
        var test = ImageSet.FromIdx(testImages, testLabels, classNames, channels);
        var info = new DataInfo(dataset.Name, source, train.Count, validation.Count, test.Count, channels, trainImages.Rows, trainImages.Columns, classNames, labels)
        {
            Preprocessing = dataset.Preprocessing,
        };
        return new TrainingData(train, validation, test, Normalization.Measure(train), info);
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}
