using Cnn.Train.Training;

namespace Cnn.Train.Data;

/// <summary>The data sets <c>cnn</c> trains on, by name.</summary>
public static class Datasets
{
    /// <summary>5,000 MNIST digits embedded in the assembly: trains in minutes with nothing downloaded.</summary>
    public static MnistFormatDataset Digits { get; } = MnistFormatDataset.CreateDigits();

    /// <summary>MNIST, every file checked against its pinned SHA-256.</summary>
    public static MnistFormatDataset Mnist { get; } = MnistFormatDataset.CreateMnist();

    /// <summary>MNIST with the outside handwriting collections mixed in (docs/handwriting.md).</summary>
    public static HandwritingDataset Handwriting { get; } = new(Mnist);

    /// <summary>Fashion-MNIST's garments.</summary>
    public static MnistFormatDataset FashionMnist { get; } = MnistFormatDataset.CreateFashionMnist();

    /// <summary>CIFAR-100's photos, with its 20 coarse or 100 fine labels.</summary>
    public static Cifar100Dataset Cifar100 { get; } = new();

    /// <summary>Every data set, in the order help texts list them.</summary>
    public static IReadOnlyList<Dataset> All { get; } = [Digits, Mnist, Handwriting, FashionMnist, Cifar100];

    /// <summary>The data set called <paramref name="name"/>, or null.</summary>
    public static Dataset? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The data set called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No data set has that name.</exception>
    public static Dataset Get(string name) =>
        Find(name) ?? throw new ArgumentException($"--dataset is '{name}'; expected {Words.Or(All.Select(d => d.Name))}");

    /// <summary>Reloads the data a saved run trained on, with the same split and normalisation.</summary>
    public static Task<TrainingData> ReloadAsync(RunConfig config, CancellationToken cancel = default) =>
        (Find(config.Data.Dataset) ?? throw new InvalidDataException($"the run trained on data set '{config.Data.Dataset}', which this version of cnn does not know; expected {Words.Or(All.Select(d => d.Name))}"))
            .ReloadAsync(config, cancel);
}
