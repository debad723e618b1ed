using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cnn.Inference;

/// <summary>
/// Float image planes in [0, 1], [C, H, W] row-major: the one form the preprocessing works on. Made from a decoded
/// image in a single pass that composites alpha over white paper, converts to grey (one luminance formula) or keeps
/// RGB, and box-averages very large images down on the way.
/// </summary>
internal sealed class Planes(int channels, int width, int height, float[] values, int block = 1)
{
    // ITU-R BT.601 luma, as MNIST-era tools and ML.NET's grayscale conversion weigh the channels.
    private const float RedWeight = 0.299f;
    private const float GreenWeight = 0.587f;
    private const float BlueWeight = 0.114f;

    public int Channels { get; } = channels;
    public int Width { get; } = width;
    public int Height { get; } = height;
    public float[] Values { get; } = values;

    /// <summary>Source pixels per plane pixel along each side (1: full resolution).</summary>
    public int Block { get; } = block;

    /// <summary>
    /// <paramref name="channels"/> planes (1: grey, 3: RGB) of <paramref name="image"/> over white paper, averaged in
    /// whole blocks so that neither side exceeds <paramref name="maxSide"/> (by more than a block's rounding).
    /// </summary>
    public static Planes FromImage(DecodedImage image, int channels, int maxSide) =>
        FromRegion(image, channels, maxSide, 0, 0, image.Width, image.Height);

    /// <summary>As <see cref="FromImage"/>, for the rectangle at (<paramref name="left"/>, <paramref name="top"/>) only.</summary>
    public static Planes FromRegion(DecodedImage image, int channels, int maxSide, int left, int top, int width, int height)
    {
        int block = Math.Max(1, (int)Math.Ceiling(Math.Max(width, height) / (double)maxSide));
        int w = (width + block - 1) / block;
        int h = (height + block - 1) / block;
        int plane = w * h;
        var sums = new float[channels * plane];
        var rgba = image.Rgba.Span;
        if (block == 1)
        {
            for (int y = 0; y < height; y++)
            {
                Row(rgba.Slice((((top + y) * image.Width) + left) * 4, width * 4), sums, y * width, plane, channels);
            }

            return new Planes(channels, w, h, sums, block);
        }

        for (int y = 0; y < height; y++)
        {
            int row = (y / block) * w;
            var line = rgba.Slice((((top + y) * image.Width) + left) * 4, width * 4);
            for (int x = 0, cell = row, remaining = block; x < width; x++)
            {
                AddPixel(line.Slice(x * 4, 4), sums, cell, plane, channels);
                if (--remaining == 0)
                {
                    (cell, remaining) = (cell + 1, block);
                }
            }
        }

        if (block > 1)
        {
            Average(sums, width, height, block, w, h, channels);
        }

        return new Planes(channels, w, h, sums, block);
    }

    /// <summary>
    /// One row at full resolution, each pixel its own cell: the value <see cref="AddPixel"/> would add to an empty
    /// cell, in a loop that reads the row once (most images are read this way).
    /// </summary>
    private static void Row(ReadOnlySpan<byte> line, float[] values, int start, int plane, int channels)
    {
        int width = line.Length / 4;
        if (channels == 1)
        {
            var output = values.AsSpan(start, width);
            int done = GreyVectors(MemoryMarshal.Cast<byte, uint>(line), output);
            for (int x = done, i = 4 * done; x < output.Length && i + 3 < line.Length; x++, i += 4)
            {
                var (r, g, b) = OverWhite(line[i], line[i + 1], line[i + 2], line[i + 3]);
                output[x] = Grey(r, g, b);
            }

            return;
        }

        for (int x = 0, i = 0; x < width; x++, i += 4)
        {
            var (r, g, b) = OverWhite(line[i], line[i + 1], line[i + 2], line[i + 3]);
            (values[start + x], values[plane + start + x], values[(2 * plane) + start + x]) = (r, g, b);
        }
    }

    /// <summary>
    /// <see cref="OverWhite"/> and <see cref="Grey"/> a vector of pixels at a time, lane by lane the same arithmetic;
    /// returns how many pixels it did (the rest are left to the scalar loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int GreyVectors(ReadOnlySpan<uint> pixels, Span<float> output)
    {
        if (!Vector.IsHardwareAccelerated || !BitConverter.IsLittleEndian)
        {
            return 0;
        }

        var bytes = new Vector<uint>(0xFF);
        var step = new Vector<float>(1f / 255f);
        var (red, green, blue) = (new Vector<float>(RedWeight), new Vector<float>(GreenWeight), new Vector<float>(BlueWeight));
        var input = MemoryMarshal.Cast<uint, Vector<uint>>(pixels);
        var result = MemoryMarshal.Cast<float, Vector<float>>(output);
        int n = Math.Min(input.Length, result.Length);
        for (int k = 0; k < n; k++)
        {
            // RGBA in memory is R | G << 8 | B << 16 | A << 24 in a little-endian word.
            var p = input[k];
            var alpha = Channel(p >> 24, bytes) * step;
            var paper = Vector<float>.One - alpha;
            var scale = alpha * step;
            var r = (Channel(p, bytes) * scale) + paper;
            var g = (Channel(p >> 8, bytes) * scale) + paper;
            var b = (Channel(p >> 16, bytes) * scale) + paper;
            result[k] = (red * r) + (green * g) + (blue * b);
        }

        return n * Vector<float>.Count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Channel(Vector<uint> shifted, Vector<uint> mask) =>
        Vector.ConvertToSingle(Vector.AsVectorInt32(shifted & mask));

    /// <summary>Adds one RGBA pixel, composited over white and scaled to [0, 1], to a cell: as grey, or to each of the three planes.</summary>
    private static void AddPixel(ReadOnlySpan<byte> pixel, float[] sums, int cell, int plane, int channels)
    {
        var (r, g, b) = OverWhite(pixel[0], pixel[1], pixel[2], pixel[3]);
        if (channels == 1)
        {
            sums[cell] += Grey(r, g, b);
            return;
        }

        sums[cell] += r;
        sums[plane + cell] += g;
        sums[(2 * plane) + cell] += b;
    }

    /// <summary>A pixel composited over white paper, each channel in [0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float R, float G, float B) OverWhite(byte red, byte green, byte blue, byte opacity)
    {
        // Over white: v·a + 255·(1 − a), then / 255, folded into one multiply-add per channel.
        float alpha = opacity * (1f / 255f);
        float paper = 1 - alpha;
        float scale = alpha * (1f / 255f);
        return ((red * scale) + paper, (green * scale) + paper, (blue * scale) + paper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Grey(float r, float g, float b) => (RedWeight * r) + (GreenWeight * g) + (BlueWeight * b);

    /// <summary>Turns block sums into means; the last row and column of blocks may hold fewer pixels.</summary>
    private static void Average(float[] sums, int width, int height, int block, int w, int h, int channels)
    {
        for (int by = 0; by < h; by++)
        {
            int rows = Math.Min(block, height - (by * block));
            for (int bx = 0; bx < w; bx++)
            {
                float count = rows * Math.Min(block, width - (bx * block));
                for (int c = 0; c < channels; c++)
                {
                    sums[(c * w * h) + (by * w) + bx] /= count;
                }
            }
        }
    }

    /// <summary>These planes resized to <paramref name="width"/>×<paramref name="height"/> (see <see cref="Resampler"/>).</summary>
    public Planes Resize(int width, int height) =>
        width == Width && height == Height ? this : new Planes(Channels, width, height, Resampler.Resize(Values, Channels, Width, Height, width, height));
}
