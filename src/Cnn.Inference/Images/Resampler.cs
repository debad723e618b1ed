namespace Cnn.Inference;

/// <summary>
/// Separable resizing of float planes with a triangle filter whose support widens with the reduction, as Pillow's
/// bilinear filter does: plain bilinear interpolation when enlarging, an average over every source pixel an output
/// pixel covers when shrinking, so thin strokes fade instead of vanishing.
/// </summary>
internal static class Resampler
{
    public static float[] Resize(float[] source, int channels, int width, int height, int newWidth, int newHeight)
    {
        var across = Weights(width, newWidth);
        var down = Weights(height, newHeight);
        var rows = new float[channels * height * newWidth];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                int from = ((c * height) + y) * width;
                int to = ((c * height) + y) * newWidth;
                for (int x = 0; x < newWidth; x++)
                {
                    rows[to + x] = Apply(across[x], source, from, 1);
                }
            }
        }

        var result = new float[channels * newHeight * newWidth];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < newHeight; y++)
            {
                for (int x = 0; x < newWidth; x++)
                {
                    result[(((c * newHeight) + y) * newWidth) + x] = Apply(down[y], rows, (c * height * newWidth) + x, newWidth);
                }
            }
        }

        return result;
    }

    private static float Apply((int Start, float[] Weights) kernel, float[] values, int offset, int stride)
    {
        float sum = 0;
        for (int k = 0; k < kernel.Weights.Length; k++)
        {
            sum += kernel.Weights[k] * values[offset + ((kernel.Start + k) * stride)];
        }

        return sum;
    }

    /// <summary>For each output index, the first source index it reads and the normalised weights from there.</summary>
    private static (int Start, float[] Weights)[] Weights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double stretch = Math.Max(scale, 1.0);
        var kernels = new (int, float[])[outSize];
        for (int o = 0; o < outSize; o++)
        {
            double centre = (o + 0.5) * scale;
            int first = Math.Max(0, (int)Math.Floor(centre - stretch));
            int last = Math.Min(inSize - 1, (int)Math.Ceiling(centre + stretch));
            var weights = new float[last - first + 1];
            double total = 0;
            for (int i = first; i <= last; i++)
            {
                double w = Math.Max(0, 1 - (Math.Abs(i + 0.5 - centre) / stretch));
                weights[i - first] = (float)w;
                total += w;
            }

            for (int k = 0; k < weights.Length; k++)
            {
                weights[k] = (float)(weights[k] / total);
            }

            kernels[o] = (first, weights);
        }

        return kernels;
    }
}
