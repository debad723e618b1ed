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

    /// <summary>Adds one RGBA pixel, composited over white and scaled to [0, 1], to a cell: as grey, or to each of the three planes.</summary>
    private static void AddPixel(ReadOnlySpan<byte> pixel, float[] sums, int cell, int plane, int channels)
    {
        // Over white: v·a + 255·(1 − a), then / 255, folded into one multiply-add per channel.
        float alpha = pixel[3] * (1f / 255f);
        float paper = 1 - alpha;
        float scale = alpha * (1f / 255f);
        float r = (pixel[0] * scale) + paper, g = (pixel[1] * scale) + paper, b = (pixel[2] * scale) + paper;
        if (channels == 1)
        {
            sums[cell] += (RedWeight * r) + (GreenWeight * g) + (BlueWeight * b);
            return;
        }

        sums[cell] += r;
        sums[plane + cell] += g;
        sums[(2 * plane) + cell] += b;
    }

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
