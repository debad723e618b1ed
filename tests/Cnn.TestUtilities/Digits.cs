using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace Cnn.Tests;

/// <summary>
/// The embedded data set's test images (data/mnist-5k: MNIST test digits, read straight from the IDX files, without Cnn.Train) and drawings made from them the way
/// a person's photo or scan would look: scaled onto a canvas, dark ink on paper, noisy grey paper, thick or thin pens,
/// transparent backgrounds. Everything is drawn with whole-image canvas operations.
/// </summary>
public static class Digits
{
    private const int Side = 28;

    private static readonly Lazy<(byte[] Pixels, byte[] Labels)> Test = new(() =>
    (
        ReadIdx(Path.Combine(Repository.DigitsFolder, SyntheticMnist.TestImages), 16),
        ReadIdx(Path.Combine(Repository.DigitsFolder, SyntheticMnist.TestLabels), 8)
    ));

    public static int Count => Test.Value.Labels.Length;

    public static int Label(int i) => Test.Value.Labels[i];

    public static byte[] Image(int i) => Test.Value.Pixels.AsSpan(i * Side * Side, Side * Side).ToArray();

    public static float[] Floats(int first, int count) => [.. Test.Value.Pixels.AsSpan(first * Side * Side, count * Side * Side).ToArray().Select(b => b / 255f)];

    /// <summary>
    /// Test digit <paramref name="i"/> drawn as a person's image would be: scaled by <paramref name="scale"/> onto a
    /// canvas at (x, y), dark ink on light paper unless <paramref name="whiteOnBlack"/>, optionally on noisy grey paper,
    /// thickened or thinned, or with a transparent background.
    /// </summary>
    public static byte[] Drawing(int i, int canvasWidth, int canvasHeight, int x, int y, int scale, bool whiteOnBlack = false,
        bool noisyGrey = false, int thicken = 0, bool thin = false, bool transparent = false, int seed = 1)
    {
        using var surface = SKSurface.Create(new SKImageInfo(canvasWidth, canvasHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(transparent ? SKColors.Transparent : whiteOnBlack ? SKColors.Black : SKColors.White);
        if (noisyGrey)
        {
            // Grey paper, 170 ± 35 per pixel from a seeded generator.
            using var paper = Paper.Noisy(canvasWidth, canvasHeight, new Random(seed), 170, 35);
            canvas.DrawImage(paper, 0, 0);
        }

        var ink = Ink(Image(i), thicken, thin);
        byte level = whiteOnBlack ? (byte)255 : transparent ? (byte)0 : (byte)20;
        using var digit = InkImage(ink, level);
        using var nearest = new SKPaint { FilterQuality = SKFilterQuality.None };
        canvas.DrawImage(digit, SKRect.Create(x, y, Side * scale, Side * scale), nearest);
        return Png(surface);
    }

    /// <summary>PNG of test digit <paramref name="i"/> exactly as stored: 28×28 grey, white on black.</summary>
    public static byte[] Png28(int i)
    {
        var digit = Image(i);
        var rgba = new byte[Side * Side * 4];
        for (int p = 0; p < digit.Length; p++)
        {
            rgba[4 * p] = rgba[(4 * p) + 1] = rgba[(4 * p) + 2] = digit[p];
            rgba[(4 * p) + 3] = 255;
        }

        using var image = SKImage.FromPixelCopy(new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A PNG of the surface's contents.</summary>
    public static byte[] Png(SKSurface surface)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The digit's ink in [0, 1], dilated <paramref name="thicken"/> times or cut to its core when <paramref name="thin"/>.</summary>
    private static float[] Ink(byte[] digit, int thicken, bool thin)
    {
        var ink = digit.Select(v => v / 255f).ToArray();
        for (int t = 0; t < thicken; t++)
        {
            ink = Dilate(ink);
        }

        return thin ? [.. ink.Select(v => v > 0.85f ? v : 0f)] : ink;
    }

    /// <summary>Ink of one colour whose alpha is the ink's strength: drawn over paper it mixes as a pen would.</summary>
    private static SKImage InkImage(float[] ink, byte level)
    {
        var rgba = new byte[Side * Side * 4];
        for (int p = 0; p < ink.Length; p++)
        {
            rgba[4 * p] = rgba[(4 * p) + 1] = rgba[(4 * p) + 2] = level;
            rgba[(4 * p) + 3] = ink[p] <= 0.05f ? (byte)0 : (byte)Math.Round(ink[p] * 255);
        }

        return SKImage.FromPixelCopy(new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
    }

    private static float[] Dilate(float[] ink)
    {
        var result = new float[ink.Length];
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                float m = 0;
                for (int ny = Math.Max(0, y - 1); ny <= Math.Min(Side - 1, y + 1); ny++)
                {
                    for (int nx = Math.Max(0, x - 1); nx <= Math.Min(Side - 1, x + 1); nx++)
                    {
                        m = Math.Max(m, ink[(ny * Side) + nx]);
                    }
                }

                result[(y * Side) + x] = m;
            }
        }

        return result;
    }

    private static byte[] ReadIdx(string path, int header)
    {
        using var z = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        z.CopyTo(memory);
        var bytes = memory.ToArray();
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        return magic is SyntheticMnist.ImagesMagic or SyntheticMnist.LabelsMagic ? bytes[header..] : throw new InvalidDataException($"{path}: magic {magic}");
    }
}
