using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Train.Data;

/// <summary>Per-channel mean and standard deviation of raw intensities in [0, 1], measured on a training split.</summary>
public sealed record Normalization(IReadOnlyList<double> Mean, IReadOnlyList<double> Std)
{
    /// <summary>Measures mean and std per channel of <paramref name="images"/> (uint8, [N, C, H, W]).</summary>
    public static Normalization Measure(ImageSet images)
    {
        // Integer sums over the bytes: exact, and no float copy of the whole set (345 MB for Fashion-MNIST in float64).
        int channels = images.Channels;
        long plane = (long)images.Height * images.Width;
        var sums = new long[channels];
        var squares = new long[channels];
        using var contiguous = images.Images.contiguous();
        // Spans over the tensor's memory, a block of images at a time (a span holds at most 2 GB): TensorAccessor's
        // indexer makes two native calls per element, half a second for Fashion-MNIST's 42 million training pixels.
        int imageBytes = (int)(channels * plane);
        int block = Math.Max(1, (1 << 30) / imageBytes);
        for (int first = 0; first < images.Count; first += block)
        {
            using var part = contiguous.narrow(0, first, Math.Min(block, images.Count - first));
            AddPlanes(part.bytes, channels, (int)plane, sums, squares);
        }

        double count = images.Count * (double)plane;
        var mean = sums.Select(s => s / count / 255.0).ToArray();
        var std = squares.Select((q, c) => Math.Sqrt(Math.Max(0, (q / count / (255.0 * 255.0)) - (mean[c] * mean[c])))).ToArray();
        return new Normalization(mean, std);
    }

    private static void AddPlanes(ReadOnlySpan<byte> pixels, int channels, int plane, long[] sums, long[] squares)
    {
        for (int index = 0; index < pixels.Length;)
        {
            for (int c = 0; c < channels; c++)
            {
                long sum = 0;
                long square = 0;
                for (int end = index + plane; index < end; index++)
                {
                    int v = pixels[index];
                    sum += v;
                    square += v * v;
                }

                sums[c] += sum;
                squares[c] += square;
            }
        }
    }

    /// <summary>Applies (x - mean) / std to a float batch of [N, C, H, W].</summary>
    public Tensor Apply(Tensor batch)
    {
        var mean = tensor(Mean.Select(m => (float)m).ToArray(), device: batch.device).view(1, Mean.Count, 1, 1);
        var std = tensor(Std.Select(s => (float)s).ToArray(), device: batch.device).view(1, Std.Count, 1, 1);
        // Tensor − tensor passes no Scalar (unlike +), so nothing to hold here.
        return (batch - mean) / std;
    }
}

/// <summary>
/// Labelled images held as one uint8 tensor [N, C, H, W] (a quarter of float32's memory; batches are converted on the
/// fly) and one int64 label tensor [N]. Owns both tensors: dispose it.
/// </summary>
public sealed class ImageSet : IDisposable
{
    public ImageSet(Tensor images, Tensor labels, IReadOnlyList<string> classNames)
    {
        if (images.dim() != 4 || images.dtype != ScalarType.Byte)
        {
            throw new ArgumentException($"images must be uint8 [N, C, H, W]; got {images.dtype} [{string.Join(", ", images.shape)}]", nameof(images));
        }

        if (labels.dim() != 1 || labels.shape[0] != images.shape[0])
        {
            throw new ArgumentException($"labels must be [N] with N = {images.shape[0]}; got [{string.Join(", ", labels.shape)}]", nameof(labels));
        }

        Images = images.DetachFromDisposeScope();
        Labels = labels.to_type(ScalarType.Int64).DetachFromDisposeScope();
        ClassNames = classNames;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int Count => (int)Images.shape[0];
    public int Channels => (int)Images.shape[1];
    public int Height => (int)Images.shape[2];
    public int Width => (int)Images.shape[3];

    public static ImageSet FromIdx(IdxImages images, IdxLabels labels, IReadOnlyList<string> classNames, int channels = 1)
    {
        using var scope = NewDisposeScope();
        var x = tensor(images.Pixels, ScalarType.Byte).view(images.Count, channels, images.Rows, images.Columns);
        var y = tensor(labels.Labels, ScalarType.Byte);
        return new ImageSet(x, y, classNames);
    }

    /// <summary>The records at <paramref name="indices"/> (int64 tensor), as a new set.</summary>
    public ImageSet Select(Tensor indices)
    {
        using var scope = NewDisposeScope();
        return new ImageSet(Images.index_select(0, indices), Labels.index_select(0, indices), ClassNames);
    }

    /// <summary>
    /// Splits into train / validation with a permutation drawn from <paramref name="seed"/>: the same seed gives the same
    /// split on every machine.
    /// </summary>
    public (ImageSet Train, ImageSet Validation) Split(int validationCount, long seed)
    {
        if (validationCount <= 0 || validationCount >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(validationCount), validationCount, $"validation count must be in 1..{Count - 1} for {Count} records");
        }

        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var perm = randperm(Count, generator: generator);
        return (Select(perm[validationCount..]), Select(perm[..validationCount]));
    }

    /// <summary>A float batch in [0, 1] of the given rows, on <paramref name="device"/>.</summary>
    public (Tensor Images, Tensor Labels) Batch(Tensor indices, Device device)
    {
        using var hold = new Kernels.ScalarHold();
        var x = Images.index_select(0, indices).to(device).to_type(ScalarType.Float32).div_(hold[255]);
        var y = Labels.index_select(0, indices).to(device);
        return (x, y);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
