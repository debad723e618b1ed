namespace Cnn.Inference.Tests;

/// <summary>
/// The digit pipeline's fast loops (vectors, runs, pooled scratch) against their plain per-pixel definitions, bit for
/// bit: the bench figures and every card's preprocessing were measured with the plain loops. Lengths around the vector
/// width and odd image sizes exercise the tails.
/// </summary>
public sealed class PixelLoopTests
{
    private static readonly int[] Lengths = [0, 1, 7, 8, 9, 31, 32, 33, 63, 100, 257];

    [Fact]
    public void Vector_loops_give_the_scalar_loops_bits()
    {
        var random = new Random(11);
        foreach (int n in Lengths)
        {
            var values = Enumerable.Range(0, n).Select(_ => random.Next(4) == 0 ? 0f : (float)random.NextDouble()).ToArray();
            var flags = Enumerable.Range(0, n).Select(_ => (byte)random.Next(2)).ToArray();
            float threshold = 0.37f, scale = 1 / (1 - threshold), floor = 0.21f, ramp = 1 / (0.83f - floor);

            var thresholded = new float[n];
            VectorOps.Threshold(values, thresholded, threshold, scale);
            AssertBits(values.Select(v => v > threshold ? (v - threshold) * scale : 0), thresholded);

            var ramped = new float[n];
            VectorOps.Ramp(values, flags, ramped, floor, ramp);
            AssertBits(values.Select((v, i) => flags[i] != 0 ? Math.Clamp((v - floor) * ramp, 0, 1) : 0), ramped);

            var inverted = (float[])values.Clone();
            VectorOps.Invert(inverted);
            AssertBits(values.Select(v => 1 - v), inverted);

            var bins = new int[n];
            int done = VectorOps.Bins(values, bins, 256);
            Assert.Equal(values.Take(done).Select(v => Math.Clamp((int)(v * 256), 0, 255)), bins.Take(done));

            var target = Enumerable.Range(0, n).Select(_ => (byte)random.Next(2)).ToArray();
            var expected = target.Zip(flags, (a, b) => (byte)(a | b)).ToArray();
            VectorOps.OrInto(target, flags);
            Assert.Equal(expected, target);

            if (n > 0)
            {
                Assert.Equal((values.Min(), values.Max()), VectorOps.MinMax(values));
            }
        }
    }

    [Fact]
    public void Full_resolution_planes_are_each_pixel_over_white_paper()
    {
        var random = new Random(12);
        foreach (var (w, h) in new[] { (1, 1), (7, 3), (8, 2), (9, 5), (33, 4) })
        {
            var rgba = new byte[w * h * 4];
            random.NextBytes(rgba);
            var planes = Planes.FromImage(new DecodedImage("random", w, h, rgba), 1, 512);
            var expected = Enumerable.Range(0, w * h).Select(i =>
            {
                float alpha = rgba[(4 * i) + 3] * (1f / 255f), paper = 1 - alpha, scale = alpha * (1f / 255f);
                float r = (rgba[4 * i] * scale) + paper, g = (rgba[(4 * i) + 1] * scale) + paper, b = (rgba[(4 * i) + 2] * scale) + paper;
                return (0.299f * r) + (0.587f * g) + (0.114f * b);
            });
            AssertBits(expected, planes.Values);

            var rgb = Planes.FromImage(new DecodedImage("random", w, h, rgba), 3, 512);
            var channels = Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(0, w * h).Select(i =>
            {
                float alpha = rgba[(4 * i) + 3] * (1f / 255f);
                return (rgba[(4 * i) + c] * (alpha * (1f / 255f))) + (1 - alpha);
            }));
            AssertBits(channels, rgb.Values);
        }
    }

    [Fact]
    public void Specks_are_the_8_connected_blobs_below_a_share_of_the_largest()
    {
        var random = new Random(13);
        for (int trial = 0; trial < 60; trial++)
        {
            int w = random.Next(1, 45), h = random.Next(1, 30);
            double density = random.NextDouble() * 0.6;
            var ink = Enumerable.Range(0, w * h).Select(_ => random.NextDouble() < density ? (float)random.NextDouble() + 0.01f : 0f).ToArray();
            var expected = FloodFillDropSpecks(ink, w, h, 0.1);
            InkAnalysis.DropSpecks(ink, w, h, 0.1);
            AssertBits(expected, ink);
        }
    }

    /// <summary>The definition: label 8-connected blobs by flood fill, clear those under <paramref name="share"/> of the largest.</summary>
    private static float[] FloodFillDropSpecks(float[] ink, int w, int h, double share)
    {
        var label = new int[ink.Length];
        var sizes = new List<int> { 0 };
        for (int start = 0; start < ink.Length; start++)
        {
            if (ink[start] <= 0 || label[start] != 0)
            {
                continue;
            }

            var pending = new Stack<int>([start]);
            label[start] = sizes.Count;
            int size = 0;
            while (pending.TryPop(out int p))
            {
                size++;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int x = (p % w) + dx, y = (p / w) + dy, q = (y * w) + x;
                        if (x >= 0 && y >= 0 && x < w && y < h && ink[q] > 0 && label[q] == 0)
                        {
                            label[q] = sizes.Count;
                            pending.Push(q);
                        }
                    }
                }
            }

            sizes.Add(size);
        }

        int largest = sizes.Max();
        return [.. ink.Select((v, i) => label[i] != 0 && sizes[label[i]] < largest * share ? 0 : v)];
    }

    private static void AssertBits(IEnumerable<float> expected, IReadOnlyList<float> actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
}
