using System.Buffers.Binary;
using System.IO.Compression;

namespace Cnn.Tests;

/// <summary>
/// Writes small MNIST-format data sets for tests: real IDX files (gzip) whose class is learnable — class k is a bright
/// bar at a class-specific place — with seeded noise, so a few epochs separate the classes.
/// </summary>
public static class SyntheticMnist
{
    public const int Size = 28;

    // MNIST's file names and IDX magic numbers, from its published description (yann.lecun.com/exdb/mnist).
    public const string TrainImages = "train-images-idx3-ubyte.gz";
    public const string TrainLabels = "train-labels-idx1-ubyte.gz";
    public const string TestImages = "t10k-images-idx3-ubyte.gz";
    public const string TestLabels = "t10k-labels-idx1-ubyte.gz";
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    public static string Write(string folder, int trainCount, int testCount, int seed = 7, int classes = 10)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var (trainX, trainY) = Make(trainCount, classes, random);
        var (testX, testY) = Make(testCount, classes, random);
        WriteImages(Path.Combine(folder, TrainImages), trainX, trainCount, gzip: true);
        WriteLabels(Path.Combine(folder, TrainLabels), trainY, gzip: true);
        WriteImages(Path.Combine(folder, TestImages), testX, testCount, gzip: true);
        WriteLabels(Path.Combine(folder, TestLabels), testY, gzip: true);
        return folder;
    }

    public static (byte[] Pixels, byte[] Labels) Make(int count, int classes, Random random)
    {
        var pixels = new byte[count * Size * Size];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % classes;
            labels[i] = (byte)label;
            var image = pixels.AsSpan(i * Size * Size, Size * Size);
            for (int p = 0; p < image.Length; p++)
            {
                image[p] = (byte)random.Next(0, 60);
            }

            // Horizontal bar for even classes, vertical for odd, at a class-specific offset.
            int offset = 3 + (4 * (label / 2)) + random.Next(-1, 2);
            for (int a = 4; a < 24; a++)
            {
                for (int w = 0; w < 2; w++)
                {
                    int row = label % 2 == 0 ? offset + w : a;
                    int col = label % 2 == 0 ? a : offset + w;
                    image[(row * Size) + col] = (byte)random.Next(200, 256);
                }
            }
        }

        return (pixels, labels);
    }

    public static byte[] ImagesBytes(byte[] pixels, int count, int rows = Size, int cols = Size, int magic = ImagesMagic)
    {
        var bytes = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        pixels.CopyTo(bytes, 16);
        return bytes;
    }

    public static byte[] LabelsBytes(byte[] labels, int magic = LabelsMagic)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static void WriteImages(string path, byte[] pixels, int count, bool gzip) =>
        WriteBytes(path, ImagesBytes(pixels, count), gzip);

    public static void WriteLabels(string path, byte[] labels, bool gzip) => WriteBytes(path, LabelsBytes(labels), gzip);

    public static void WriteBytes(string path, byte[] bytes, bool gzip)
    {
        using var file = File.Create(path);
        if (gzip)
        {
            using var z = new GZipStream(file, CompressionLevel.Fastest);
            z.Write(bytes);
        }
        else
        {
            file.Write(bytes);
        }
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var z = new GZipStream(memory, CompressionLevel.Fastest))
        {
            z.Write(bytes);
        }

        return memory.ToArray();
    }

    public static byte[] Ungzip(byte[] bytes)
    {
        using var z = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        z.CopyTo(memory);
        return memory.ToArray();
    }
}
