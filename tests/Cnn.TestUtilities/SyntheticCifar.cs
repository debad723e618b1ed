using System.Formats.Tar;
using System.IO.Compression;

namespace Cnn.Tests;

/// <summary>
/// CIFAR-100 binary files for tests: the coarse label decides the image's colour (20 hues) under seeded noise, and the
/// fine label is random — so a net learns the coarse byte and cannot learn the fine one.
/// </summary>
public static class SyntheticCifar
{
    // CIFAR-100's binary layout (www.cs.toronto.edu/~kriz/cifar.html): coarse label, fine label, 3×32×32 pixels.
    public const string TrainFile = "train.bin";
    public const string TestFile = "test.bin";
    public const int RecordBytes = 2 + (3 * 32 * 32);

    public static string Write(string folder, int trainCount, int testCount, int seed = 5)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        File.WriteAllBytes(Path.Combine(folder, TrainFile), Records(trainCount, random));
        File.WriteAllBytes(Path.Combine(folder, TestFile), Records(testCount, random));
        return folder;
    }

    public static byte[] Records(int count, Random random)
    {
        var bytes = new byte[count * RecordBytes];
        for (int i = 0; i < count; i++)
        {
            int coarse = i % 20;
            int at = i * RecordBytes;
            bytes[at] = (byte)coarse;
            bytes[at + 1] = (byte)random.Next(100);
            var (r, g, b) = Hue(coarse / 20.0);
            var rgb = new[] { r, g, b };
            for (int c = 0; c < 3; c++)
            {
                for (int p = 0; p < 1024; p++)
                {
                    bytes[at + 2 + (c * 1024) + p] = (byte)Math.Clamp((rgb[c] * 0.75) + random.Next(0, 64), 0, 255);
                }
            }
        }

        return bytes;
    }

    /// <summary>The tarball as the data set ships it: cifar-100-binary/{train,test}.bin and the label-name files.</summary>
    public static byte[] Tarball(string folder)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var name in new[] { TrainFile, TestFile })
            {
                tar.WriteEntry(Path.Combine(folder, name), $"cifar-100-binary/{name}");
            }

            var names = new PaxTarEntry(TarEntryType.RegularFile, "cifar-100-binary/coarse_label_names.txt")
            {
                DataStream = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(string.Join("\n", Enumerable.Range(0, 20).Select(i => $"superclass_{i}")))),
            };
            tar.WriteEntry(names);
        }

        return memory.ToArray();
    }

    private static (double R, double G, double B) Hue(double h)
    {
        double x = h * 6;
        int sector = (int)x % 6;
        double f = x - Math.Floor(x);
        return sector switch
        {
            0 => (255, 255 * f, 0),
            1 => (255 * (1 - f), 255, 0),
            2 => (0, 255, 255 * f),
            3 => (0, 255 * (1 - f), 255),
            4 => (255 * f, 0, 255),
            _ => (255, 0, 255 * (1 - f)),
        };
    }
}
