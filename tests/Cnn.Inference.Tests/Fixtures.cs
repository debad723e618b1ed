using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using SkiaSharp;

namespace Cnn.Inference.Tests;

/// <summary>The committed model and the digits-5k test images, read without Cnn.Train (this project must not see TorchSharp).</summary>
public static class Fixtures
{
    public static string Root { get; } = typeof(Fixtures).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    public static string ModelPath => Path.Combine(Root, "models", "lenet5-digits.onnx");

    public static string FeaturesPath => Path.Combine(Root, "models", "lenet5-digits.features.onnx");

    private static readonly Lazy<(byte[] Pixels, byte[] Labels)> Test = new(() =>
    (
        Read(Path.Combine(Root, "data", "digits-5k", "t10k-images-idx3-ubyte.gz"), 16),
        Read(Path.Combine(Root, "data", "digits-5k", "t10k-labels-idx1-ubyte.gz"), 8)
    ));

    public static int Count => Test.Value.Labels.Length;

    public static int Label(int i) => Test.Value.Labels[i];

    public static byte[] Image(int i) => Test.Value.Pixels.AsSpan(i * 784, 784).ToArray();

    public static float[] Floats(int first, int count) => Test.Value.Pixels.AsSpan(first * 784, count * 784).ToArray().Select(b => b / 255f).ToArray();

    private static byte[] Read(string path, int header)
    {
        using var z = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        z.CopyTo(memory);
        var bytes = memory.ToArray();
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic is not (2049 or 2051))
        {
            throw new InvalidDataException($"{path}: magic {magic}");
        }

        return bytes[header..];
    }

    /// <summary>
    /// Draws test digit <paramref name="i"/> as a person's image would be: scaled by <paramref name="scale"/> onto a
    /// canvas at (x, y), dark ink on light paper unless <paramref name="whiteOnBlack"/>, optionally on noisy grey paper,
    /// thickened or thinned, or with a transparent background.
    /// </summary>
    public static byte[] Drawing(int i, int canvasWidth, int canvasHeight, int x, int y, int scale, bool whiteOnBlack = false,
        bool noisyGrey = false, int thicken = 0, bool thin = false, bool transparent = false, int seed = 1)
    {
        var digit = Image(i);
        var random = new Random(seed);
        using var bitmap = new SKBitmap(new SKImageInfo(canvasWidth, canvasHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int py = 0; py < canvasHeight; py++)
        {
            for (int px = 0; px < canvasWidth; px++)
            {
                byte paper = noisyGrey ? (byte)Math.Clamp(170 + random.Next(-35, 36), 0, 255) : (byte)(whiteOnBlack ? 0 : 255);
                bitmap.SetPixel(px, py, transparent ? new SKColor(255, 255, 255, 0) : new SKColor(paper, paper, paper));
            }
        }

        var ink = digit.Select(v => v / 255f).ToArray();
        for (int t = 0; t < thicken; t++)
        {
            ink = Dilate(ink);
        }

        if (thin)
        {
            ink = ink.Select(v => v > 0.85f ? v : 0f).ToArray();
        }

        for (int dy = 0; dy < 28 * scale; dy++)
        {
            for (int dx = 0; dx < 28 * scale; dx++)
            {
                float v = ink[((dy / scale) * 28) + (dx / scale)];
                if (v <= 0.05f || x + dx >= canvasWidth || y + dy >= canvasHeight)
                {
                    continue;
                }

                var under = bitmap.GetPixel(x + dx, y + dy);
                byte inkLevel = whiteOnBlack ? (byte)255 : (byte)20;
                if (transparent)
                {
                    bitmap.SetPixel(x + dx, y + dy, new SKColor(0, 0, 0, (byte)(v * 255)));
                }
                else
                {
                    byte Mix(byte a) => (byte)((a * (1 - v)) + (inkLevel * v));
                    bitmap.SetPixel(x + dx, y + dy, new SKColor(Mix(under.Red), Mix(under.Green), Mix(under.Blue)));
                }
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>PNG of test digit <paramref name="i"/> exactly as stored: 28×28 grey, white on black.</summary>
    public static byte[] Png28(int i)
    {
        var digit = Image(i);
        using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int p = 0; p < 784; p++)
        {
            bitmap.SetPixel(p % 28, p / 28, new SKColor(digit[p], digit[p], digit[p]));
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static float[] Dilate(float[] ink)
    {
        var result = new float[ink.Length];
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
            {
                float m = 0;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        if (nx >= 0 && ny >= 0 && nx < 28 && ny < 28)
                        {
                            m = Math.Max(m, ink[(ny * 28) + nx]);
                        }
                    }
                }

                result[(y * 28) + x] = m;
            }
        }

        return result;
    }
}
