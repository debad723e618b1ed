namespace Cnn.Inference;

/// <summary>
/// Float image planes in [0, 1], [C, H, W] row-major: the one form the preprocessing works on. Made from a decoded
/// image in a single pass that composites alpha over white paper, converts to grey (one luminance formula) or keeps
/// RGB, and box-averages very large images down on the way.
/// </summary>
internal sealed class Planes(int channels, int width, int height, float[] values)
{
    // ITU-R BT.601 luma, as MNIST-era tools and ML.NET's grayscale conversion weigh the channels.
    private const float RedWeight = 0.299f;
    private const float GreenWeight = 0.587f;
    private const float BlueWeight = 0.114f;

    public int Channels { get; } = channels;
    public int Width { get; } = width;
    public int Height { get; } = height;
    public float[] Values { get; } = values;

    /// <summary>
    /// <paramref name="channels"/> planes (1: grey, 3: RGB) of <paramref name="image"/> over white paper, averaged in
    /// whole blocks so that neither side exceeds <paramref name="maxSide"/> (by more than a block's rounding).
    /// </summary>
    public static Planes FromImage(DecodedImage image, int channels, int maxSide)
    {
        int block = Math.Max(1, (int)Math.Ceiling(Math.Max(image.Width, image.Height) / (double)maxSide));
        int w = (image.Width + block - 1) / block;
        int h = (image.Height + block - 1) / block;
        var sums = new float[channels * w * h];
        var counts = new int[w * h];
        var rgba = image.Rgba.Span;
        for (int y = 0; y < image.Height; y++)
        {
            int row = (y / block) * w;
            for (int x = 0; x < image.Width; x++)
            {
                int p = ((y * image.Width) + x) * 4;
                float alpha = rgba[p + 3] / 255f;
                float Over(byte v) => ((alpha * v) + ((1 - alpha) * 255f)) / 255f;
                int cell = row + (x / block);
                counts[cell]++;
                if (channels == 1)
                {
                    sums[cell] += (RedWeight * Over(rgba[p])) + (GreenWeight * Over(rgba[p + 1])) + (BlueWeight * Over(rgba[p + 2]));
                }
                else
                {
                    sums[cell] += Over(rgba[p]);
                    sums[(w * h) + cell] += Over(rgba[p + 1]);
                    sums[(2 * w * h) + cell] += Over(rgba[p + 2]);
                }
            }
        }

        for (int i = 0; i < sums.Length; i++)
        {
            sums[i] /= counts[i % (w * h)];
        }

        return new Planes(channels, w, h, sums);
    }

    /// <summary>These planes resized to <paramref name="width"/>×<paramref name="height"/> (see <see cref="Resampler"/>).</summary>
    public Planes Resize(int width, int height) =>
        width == Width && height == Height ? this : new Planes(Channels, width, height, Resampler.Resize(Values, Channels, Width, Height, width, height));
}
