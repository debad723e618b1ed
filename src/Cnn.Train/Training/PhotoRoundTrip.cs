using Cnn.Inference;
using static TorchSharp.torch;

namespace Cnn.Train.Training;

/// <summary>
/// With probability <see cref="Share"/> per image, the digit is drawn as a photo — dark ink on light paper with grain,
/// enlarged 2–4× — and read back through the digit preprocessing that <c>cnn predict</c> and <c>cnn serve</c> apply to
/// an image file (<see cref="ImagePreprocessor.PrepareDigit"/>): threshold, soft edges, refit into MNIST's box, stroke weight,
/// centre of mass. A net trained only on MNIST's own pixels never sees what that preprocessing hands it; this shows
/// it. Runs on the CPU after the jitter, per image, from draws of the seeded generator, so it repeats bit for bit.
/// </summary>
/// <param name="Share">Share of the images sent through, 0..1.</param>
/// <param name="TargetInk">The training data's mean intensity, which the preprocessing's stroke weight aims at (the model card's normalisation mean).</param>
/// <param name="Deskew">Whether the model's preprocessing deskews (the run's <see cref="TrainOptions.Deskew"/>).</param>
/// <param name="Threads">Images prepared at once (each from its own draws, so the result does not depend on it).</param>
public sealed record PhotoRoundTrip(double Share, double TargetInk, bool Deskew = false, int Threads = 1) : IAugmentation
{
    /// <summary>Draws per image: whether, enlargement, paper grey, ink grey, grain, a seed for the grain.</summary>
    private const int Draws = 6;

    /// <summary>Sends a share of the batch [N, 1, H, W] (raw intensities, white ink on black) through a photo and the preprocessing.</summary>
    public Tensor Apply(Tensor batch, Generator generator)
    {
        long n = batch.shape[0];
        int height = (int)batch.shape[2], width = (int)batch.shape[3];
        var draws = rand(new long[] { n, Draws }, generator: generator).data<float>().ToArray();
        var pixels = batch.detach().cpu().contiguous().data<float>().ToArray();
        int size = height * width;
        Parallel.For(0, (int)n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Threads) }, i =>
        {
            var d = draws.AsSpan(i * Draws, Draws);
            if (d[0] < Share)
            {
                RoundTrip(pixels.AsSpan(i * size, size), width, height, d);
            }
        });
        return tensor(pixels, batch.shape, dtype: batch.dtype).to(batch.device);
    }

    private void RoundTrip(Span<float> digit, int width, int height, ReadOnlySpan<float> d)
    {
        var photo = Photo(digit, width, height, d);
        try
        {
            ImagePreprocessor.PrepareDigit(photo, height, width, TargetInk, Deskew).Pixels.CopyTo(digit);
        }
        catch (NoInkException)
        {
            // A digit the jitter pushed (almost) out of the frame has no ink to find; it trains as it is.
        }
    }

    /// <summary>The digit enlarged 2, 3 or 4 times (bilinear), as dark ink (grey 0.05–0.4) on paper (0.7–0.95) with Gaussian grain (σ up to 3 %), 8-bit.</summary>
    private static DecodedImage Photo(ReadOnlySpan<float> digit, int width, int height, ReadOnlySpan<float> d)
    {
        int scale = 2 + Math.Min(2, (int)(d[1] * 3));
        float paper = 0.7f + (0.25f * d[2]);
        float ink = 0.05f + (0.35f * d[3]);
        float grain = 0.03f * d[4];
        var random = new Random((int)(d[5] * int.MaxValue));
        int w = width * scale, h = height * scale;
        var rgba = new byte[w * h * 4];
        var noise = new float[w * h];
        for (int p = 0; p + 1 < noise.Length; p += 2)
        {
            (noise[p], noise[p + 1]) = NormalPair(random);
        }

        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                float v = Bilinear(digit, width, height, ((x + 0.5f) / scale) - 0.5f, ((y + 0.5f) / scale) - 0.5f);
                float grey = paper - ((paper - ink) * v) + (grain * noise[(y * w) + x]);
                byte b = (byte)Math.Clamp(MathF.Round(grey * 255f), 0, 255);
                int o = ((y * w) + x) * 4;
                (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3]) = (b, b, b, 255);
            }
        }

        return new DecodedImage("training photo", w, h, rgba);
    }

    private static float Bilinear(ReadOnlySpan<float> plane, int width, int height, float fx, float fy)
    {
        fx = Math.Clamp(fx, 0, width - 1);
        fy = Math.Clamp(fy, 0, height - 1);
        int x0 = (int)fx, y0 = (int)fy;
        int x1 = Math.Min(x0 + 1, width - 1), y1 = Math.Min(y0 + 1, height - 1);
        float ax = fx - x0, ay = fy - y0;
        float top = (plane[(y0 * width) + x0] * (1 - ax)) + (plane[(y0 * width) + x1] * ax);
        float bottom = (plane[(y1 * width) + x0] * (1 - ax)) + (plane[(y1 * width) + x1] * ax);
        return (top * (1 - ay)) + (bottom * ay);
    }

    /// <summary>Two independent standard normal draws (Box–Muller).</summary>
    private static (float, float) NormalPair(Random random)
    {
        double r = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
        var (sin, cos) = Math.SinCos(2 * Math.PI * random.NextDouble());
        return ((float)(r * cos), (float)(r * sin));
    }
}

/// <summary>One augmentation after another, from the same generator.</summary>
public sealed record Chained(IAugmentation First, IAugmentation Then) : IAugmentation
{
    /// <inheritdoc />
    public Tensor Apply(Tensor batch, Generator generator) => Then.Apply(First.Apply(batch, generator), generator);
}
