using System.Formats.Tar;
using System.IO.Compression;

namespace Cnn.Train.Data;

/// <summary>Which of CIFAR-100's two label bytes to train on.</summary>
public enum CifarLabels
{
    /// <summary>The 20 superclasses (the first label byte of each record).</summary>
    Coarse,

    /// <summary>The 100 classes (the second label byte).</summary>
    Fine,
}

/// <summary>
/// CIFAR-100's binary version: train.bin (50,000 records) and test.bin (10,000), each record 1 coarse-label byte,
/// 1 fine-label byte and 3,072 pixel bytes (32×32 red plane, then green, then blue, row-major).
/// </summary>
public static class Cifar100
{
    public const int Side = 32;
    public const int Channels = 3;
    public const int ImageBytes = Channels * Side * Side;
    public const int RecordBytes = 2 + ImageBytes;
    public const string TrainFile = "train.bin";
    public const string TestFile = "test.bin";
    public const string ArchiveName = "cifar-100-binary.tar.gz";

    /// <summary>The tarball's MD5 as published with the data set (and listed by torchvision).</summary>
    public const string ArchiveMd5 = "03b5dce01913d631647c71ecec9e9cb8";

    public static readonly IReadOnlyList<Uri> Mirrors = [new("https://www.cs.toronto.edu/~kriz/")];

    public static readonly IReadOnlyList<string> CoarseClasses =
    [
        "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables", "household_electrical_devices",
        "household_furniture", "insects", "large_carnivores", "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
        "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals",
        "trees", "vehicles_1", "vehicles_2",
    ];

    public static readonly IReadOnlyList<string> FineClasses =
    [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle", "bowl", "boy",
        "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock",
        "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest",
        "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard",
        "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid",
        "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum",
        "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper",
        "snail", "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
        "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf",
        "woman", "worm",
    ];

    public static IReadOnlyList<string> ClassNames(CifarLabels labels) => labels == CifarLabels.Coarse ? CoarseClasses : FineClasses;

    /// <summary>Reads one binary file into pixels [N, 3, 32, 32] and the chosen labels, checking every record.</summary>
    public static (IdxImages Images, IdxLabels Labels) Read(string path, CifarLabels which)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CIFAR-100 file not found: {path}", path);
        }

        var bytes = File.ReadAllBytes(path);
        return Parse(bytes, path, which);
    }

    public static (IdxImages Images, IdxLabels Labels) Parse(byte[] bytes, string source, CifarLabels which)
    {
        if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
        {
            int whole = bytes.Length / RecordBytes;
            throw new InvalidDataException(
                $"{source}: {bytes.Length:N0} bytes is not a whole number of {RecordBytes:N0}-byte records (1 coarse label, 1 fine label, {ImageBytes:N0} pixels); "
                + (bytes.Length == 0 ? "the file is empty" : $"record {whole} is truncated after {bytes.Length - (whole * RecordBytes):N0} bytes"));
        }

        int count = bytes.Length / RecordBytes;
        var pixels = new byte[count * ImageBytes];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int at = i * RecordBytes;
            byte coarse = bytes[at];
            byte fine = bytes[at + 1];
            if (coarse >= CoarseClasses.Count || fine >= FineClasses.Count)
            {
                throw new InvalidDataException(
                    $"{source}: record {i} has coarse label {coarse} and fine label {fine}; expected 0..{CoarseClasses.Count - 1} and 0..{FineClasses.Count - 1}");
            }

            labels[i] = which == CifarLabels.Coarse ? coarse : fine;
            Buffer.BlockCopy(bytes, at + 2, pixels, i * ImageBytes, ImageBytes);
        }

        return (new IdxImages(source, count, Side, Side, pixels), new IdxLabels(source, labels));
    }

    /// <summary>The folder holding train.bin and test.bin: DIR itself or DIR/cifar-100-binary.</summary>
    public static string? FindFolder(string folder)
    {
        foreach (var candidate in new[] { folder, Path.Combine(folder, "cifar-100-binary") })
        {
            if (File.Exists(Path.Combine(candidate, TrainFile)) && File.Exists(Path.Combine(candidate, TestFile)))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>One of the two files without the other is a user's incomplete copy: say which is missing rather than download.</summary>
    private static void CheckNotPartial(string folder)
    {
        foreach (var candidate in new[] { folder, Path.Combine(folder, "cifar-100-binary") })
        {
            bool train = File.Exists(Path.Combine(candidate, TrainFile)), test = File.Exists(Path.Combine(candidate, TestFile));
            if (train != test)
            {
                throw new FileNotFoundException(
                    $"{candidate}: has {(train ? TrainFile : TestFile)} but not {(train ? TestFile : TrainFile)}; expected both files of CIFAR-100's binary version there (or an empty folder to download them into)",
                    Path.Combine(candidate, train ? TestFile : TrainFile));
            }
        }
    }

    /// <summary>
    /// Makes sure train.bin and test.bin are in <paramref name="folder"/>: downloads the tarball (MD5-checked, atomic)
    /// when they are missing and unpacks the two files with the BCL's tar reader, each written atomically.
    /// </summary>
    public static async Task<string> EnsureAsync(string folder, Downloader downloader, IReadOnlyList<Uri>? mirrors = null, string md5 = ArchiveMd5, CancellationToken cancel = default)
    {
        if (FindFolder(folder) is { } found)
        {
            return found;
        }

        CheckNotPartial(folder);
        try
        {
            await downloader.EnsureAsync(folder, mirrors ?? Mirrors, [new RemoteFile(ArchiveName, md5)], cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancel.IsCancellationRequested)
        {
            throw new IOException($"{folder} holds neither {TrainFile} nor {TestFile}, and downloading {ArchiveName} failed: {e.Message}", e);
        }

        string archive = Path.Combine(folder, ArchiveName);
        await using (var file = File.OpenRead(archive))
        await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        {
            using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync(copyData: false, cancel).ConfigureAwait(false) is { } entry)
            {
                string name = Path.GetFileName(entry.Name);
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || name is not (TrainFile or TestFile) || entry.DataStream == null)
                {
                    continue;
                }

                var data = entry.DataStream;
                AtomicFile.Write(Path.Combine(folder, name), stream => data.CopyTo(stream));
            }
        }

        return FindFolder(folder) ?? throw new InvalidDataException($"{archive}: expected {TrainFile} and {TestFile} inside; they are not there");
    }
}
