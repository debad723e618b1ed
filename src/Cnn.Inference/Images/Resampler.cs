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
        var across = new Kernels(width, newWidth);
        var down = new Kernels(height, newHeight);
        var rows = new float[channels * height * newWidth];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                var line = source.AsSpan(((c * height) + y) * width, width);
                var output = rows.AsSpan(((c * height) + y) * newWidth, newWidth);
                for (int x = 0; x < output.Length; x++)
                {
                    output[x] = across.Apply(x, line, 1);
                }
            }
        }

        var result = new float[channels * newHeight * newWidth];
        for (int c = 0; c < channels; c++)
        {
            var plane = rows.AsSpan(c * height * newWidth, height * newWidth);
            for (int y = 0; y < newHeight; y++)
            {
                var output = result.AsSpan(((c * newHeight) + y) * newWidth, newWidth);
                for (int x = 0; x < output.Length; x++)
                {
                    output[x] = down.Apply(y, plane[x..], newWidth);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// For each output index, the first source index it reads and the normalised weights from there, all in one
    /// array (a resize of a drawing asks for hundreds of them).
    /// </summary>
    private sealed class Kernels
    {
        private readonly int[] _start;
        private readonly int[] _offset;
        private readonly float[] _weights;

        public Kernels(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double stretch = Math.Max(scale, 1.0);
            _start = new int[outSize];
            _offset = new int[outSize + 1];
            var weights = new List<float>(outSize * ((2 * (int)Math.Ceiling(stretch)) + 2));
            for (int o = 0; o < outSize; o++)
            {
                double centre = (o + 0.5) * scale;
                int first = Math.Max(0, (int)Math.Floor(centre - stretch));
                int last = Math.Min(inSize - 1, (int)Math.Ceiling(centre + stretch));
                double Weight(int i) => Math.Max(0, 1 - (Math.Abs(i + 0.5 - centre) / stretch));
                double total = 0;
                for (int i = first; i <= last; i++)
                {
                    total += Weight(i);
                }

                for (int i = first; i <= last; i++)
                {
                    // The weight rounded to float first, then divided in double and rounded again: the values the
                    // two-step normalisation always gave.
                    weights.Add((float)((float)Weight(i) / total));
                }

                _start[o] = first;
                _offset[o + 1] = weights.Count;
            }

            _weights = [.. weights];
        }

        /// <summary>Output <paramref name="index"/>: its weights applied to <paramref name="values"/> read every <paramref name="stride"/>-th.</summary>
        public float Apply(int index, ReadOnlySpan<float> values, int stride)
        {
            var weights = _weights.AsSpan(_offset[index], _offset[index + 1] - _offset[index]);
            int at = _start[index] * stride;
            float sum = 0;
            for (int k = 0; k < weights.Length; k++, at += stride)
            {
                sum += weights[k] * values[at];
            }

            return sum;
        }
    }
}
