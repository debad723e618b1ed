using System.Buffers.Binary;
using System.IO.Compression;
using Cnn.Train.Recipes;
using Cnn.Train.Training;

namespace Cnn.TrainBench;

/// <summary>
/// Writes a LeNet run's validation split as MNIST-format t10k files, so the handwriting bench can read the images
/// that chose the run's weights (and, for members sharing --split-seed, an ensemble's) as photos: model choices are
/// made on these, never on the test set or data/handwriting-eval.
/// </summary>
internal static class ValidationSplit
{
    public static async Task<int> Write(string runFolder, string output)
    {
        var config = new RunFolder(runFolder).ReadConfig();
        using var data = await Cnn.Train.Data.Datasets.ReloadAsync(config);
        var images = data.Validation.Images.to_type(TorchSharp.torch.ScalarType.Byte).contiguous().data<byte>().ToArray();
        var labels = data.Validation.Labels.to_type(TorchSharp.torch.ScalarType.Byte).contiguous().data<byte>().ToArray();
        Directory.CreateDirectory(output);
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, 2051);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), data.Validation.Count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), data.Validation.Height);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), data.Validation.Width);
        Gzip(Path.Combine(output, "t10k-images-idx3-ubyte.gz"), header, images);
        BinaryPrimitives.WriteInt32BigEndian(header, 2049);
        Gzip(Path.Combine(output, "t10k-labels-idx1-ubyte.gz"), header[..8], labels);
        Console.WriteLine($"{output}: the {data.Validation.Count:N0} validation images of {runFolder} (split seed {config.Training.SplitSeed ?? config.Training.Seed})");
        return 0;
    }

    private static void Gzip(string path, byte[] header, byte[] body)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(header);
        gzip.Write(body);
    }
}
