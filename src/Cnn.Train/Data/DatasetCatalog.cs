using System.Reflection;

namespace Cnn.Train.Data;

/// <summary>The MNIST-format data sets <c>cnn train lenet</c> knows.</summary>
public enum MnistDataset
{
    /// <summary>5,000 real MNIST digits embedded in this assembly (4,000 train / 1,000 test).</summary>
    Digits,

    /// <summary>The full MNIST (60,000 / 10,000), downloaded and checked against its published MD5s.</summary>
    Mnist,

    /// <summary>Fashion-MNIST (60,000 / 10,000): Debian's dataset-fashion-mnist or a download.</summary>
    FashionMnist,
}

/// <summary>Where the four IDX files of each data set come from, and their class names.</summary>
public static class DatasetCatalog
{
    public const string TrainImages = "train-images-idx3-ubyte.gz";
    public const string TrainLabels = "train-labels-idx1-ubyte.gz";
    public const string TestImages = "t10k-images-idx3-ubyte.gz";
    public const string TestLabels = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The resource prefix of the embedded digits-5k files.</summary>
    public const string DigitsResource = "digits-5k";

    /// <summary>Debian's package dataset-fashion-mnist installs the four files here.</summary>
    public const string DebianFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    public static readonly IReadOnlyList<string> FileNames = [TrainImages, TrainLabels, TestImages, TestLabels];

    public static readonly IReadOnlyList<string> DigitClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static readonly IReadOnlyList<string> FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    // The MD5s torchvision publishes for the original gzip files.
    public static readonly IReadOnlyList<RemoteFile> MnistRemoteFiles =
    [
        new(TrainImages, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        new(TrainLabels, "d53e105ee54ea40749a09fcbcd1e9432"),
        new(TestImages, "9fb629c4189551a2d022fa330f9573f3"),
        new(TestLabels, "ec29112dd5afa0611ce80d1b7f02629c"),
    ];

    public static readonly IReadOnlyList<Uri> MnistMirrors =
    [
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("http://yann.lecun.com/exdb/mnist/"),
    ];

    public static readonly IReadOnlyList<RemoteFile> FashionMnistRemoteFiles =
    [
        new(TrainImages, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        new(TrainLabels, "25c81989df183df01b3e8a0aad5dffbe"),
        new(TestImages, "bef4ecab320f06d8554ea6380940ec79"),
        new(TestLabels, "bb300cfdad3c16e7a12a480ee83cd310"),
    ];

    public static readonly IReadOnlyList<Uri> FashionMnistMirrors =
    [
        new("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        new("https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
    ];

    /// <summary>The folder name of a data set's download cache.</summary>
    private static string CacheName(MnistDataset dataset) => dataset switch
    {
        MnistDataset.Mnist => "mnist",
        MnistDataset.FashionMnist => "fashion-mnist",
        _ => "digits",
    };

    public static IReadOnlyList<string> ClassNames(MnistDataset dataset) =>
        dataset == MnistDataset.FashionMnist ? FashionClasses : DigitClasses;

    /// <summary>The cache folder of <paramref name="dataset"/>: $XDG_CACHE_HOME/cnn/NAME, else ~/.cache/cnn/NAME.</summary>
    public static string DefaultCacheFolder(MnistDataset dataset) => CacheFolder(CacheName(dataset));

    /// <summary>The cache folder of any data set by name: $XDG_CACHE_HOME/cnn/NAME, else ~/.cache/cnn/NAME.</summary>
    public static string CacheFolder(string name)
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "cnn", name);
    }

    /// <summary>True when all four IDX files are in <paramref name="folder"/>.</summary>
    public static bool IsComplete(string folder) => FileNames.All(f => File.Exists(Path.Combine(folder, f)));

    /// <summary>
    /// Opens the four files of <paramref name="dataset"/>. With <paramref name="folder"/> set, files present there are used
    /// as they are and missing ones are downloaded into it (for mnist / fashion-mnist); without it the data set's default
    /// place is used: the embedded digits, Debian's Fashion-MNIST folder, or the download cache.
    /// </summary>
    public static async Task<MnistFiles> LocateAsync(MnistDataset dataset, string? folder, Downloader? downloader, CancellationToken cancel = default)
    {
        if (dataset == MnistDataset.Digits && folder == null)
        {
            return MnistFiles.Embedded(DigitsResource);
        }

        if (folder == null && dataset == MnistDataset.FashionMnist && IsComplete(DebianFashionMnistFolder))
        {
            folder = DebianFashionMnistFolder;
        }

        folder ??= DefaultCacheFolder(dataset);
        if (!IsComplete(folder))
        {
            var (mirrors, files) = dataset switch
            {
                MnistDataset.Mnist => (MnistMirrors, MnistRemoteFiles),
                MnistDataset.FashionMnist => (FashionMnistMirrors, FashionMnistRemoteFiles),
                _ => throw new FileNotFoundException(
                    $"{folder}: expected the four IDX files {string.Join(", ", FileNames)}; missing {string.Join(", ", FileNames.Where(f => !File.Exists(Path.Combine(folder, f))))}"),
            };
            if (downloader == null)
            {
                throw new FileNotFoundException($"{folder}: the {CacheName(dataset)} files are missing and downloading is off");
            }

            await downloader.EnsureAsync(folder, mirrors, files, cancel).ConfigureAwait(false);
        }

        return MnistFiles.InFolder(folder);
    }
}

/// <summary>The four IDX files of one MNIST-format data set, wherever they are.</summary>
public sealed class MnistFiles
{
    private readonly Func<string, Stream> _open;

    private MnistFiles(string description, Func<string, Stream> open)
    {
        Description = description;
        _open = open;
    }

    /// <summary>Where the files are, for config.json and messages.</summary>
    public string Description { get; }

    public static MnistFiles InFolder(string folder) =>
        new(Path.GetFullPath(folder), name => File.OpenRead(Path.Combine(folder, name)));

    /// <summary>How <see cref="Description"/> starts for files embedded in this assembly.</summary>
    public const string EmbeddedPrefix = "embedded:";

    public static MnistFiles Embedded(string prefix)
    {
        var assembly = typeof(MnistFiles).Assembly;
        return new MnistFiles($"{EmbeddedPrefix}{prefix}", name =>
            assembly.GetManifestResourceStream($"{prefix}/{name}")
            ?? throw new FileNotFoundException($"embedded resource {prefix}/{name} is missing from {assembly.GetName().Name}"));
    }

    /// <summary>
    /// Reads and cross-checks the train or test pair: the labels first, so an image file whose header announces another
    /// count is refused before its pixels are inflated.
    /// </summary>
    public (IdxImages Images, IdxLabels Labels) Read(bool train, int classCount)
    {
        string imagesName = train ? DatasetCatalog.TrainImages : DatasetCatalog.TestImages;
        string labelsName = train ? DatasetCatalog.TrainLabels : DatasetCatalog.TestLabels;
        IdxLabels labels;
        using (var s = _open(labelsName))
        {
            labels = IdxFile.ReadLabels(s, Describe(labelsName));
        }

        IdxImages images;
        using (var s = _open(imagesName))
        {
            images = IdxFile.ReadImages(s, Describe(imagesName), labels);
        }

        IdxFile.CheckPair(images, labels, classCount);
        return (images, labels);
    }

    private string Describe(string name) => Description.StartsWith(EmbeddedPrefix, StringComparison.Ordinal)
        ? $"{Description}/{name}"
        : Path.Combine(Description, name);
}
