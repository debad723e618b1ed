namespace Cnn.Inference;

/// <summary>
/// Deskewing by image moments, as the classic MNIST pipelines do: the ink's slant is its second-order moment ratio
/// μ11 / μ02, and a horizontal shear about the ink's centre of mass takes it out, so a forward-leaning 7 stands up
/// straight. A model card with <see cref="Cnn.Contracts.ModelCard.Deskew"/> set was trained on frames deskewed by exactly this
/// code, and Cnn.Inference applies it to every image before the model sees it.
/// </summary>
public static class MomentDeskew
{
    /// <summary>Slants steeper than this (45°) come from blobs, not strokes (a dash has almost no height), and are not undone.</summary>
    public const double MaxSkew = 1.0;

    /// <summary>The ink's slant: how far right a row's ink moves per row down, μ11 / μ02 about the centre of mass.</summary>
    /// <param name="frame">One plane of non-negative intensities, row-major.</param>
    /// <param name="width">Columns.</param>
    /// <param name="height">Rows.</param>
    /// <returns>The skew and the centre of mass's row; skew 0 for an empty or flat frame.</returns>
    public static (double Skew, double CentreY) Measure(ReadOnlySpan<float> frame, int width, int height)
    {
        CheckShape(frame.Length, width, height);
        // One pass of raw moments; the central ones follow: μ11 = Σvxy/m − cx·cy, μ02 = Σvy²/m − cy².
        double m = 0, mx = 0, my = 0, mxy = 0, myy = 0;
        for (int i = 0; i < frame.Length; i++)
        {
            double v = frame[i];
            int x = i % width, y = i / width;
            m += v;
            mx += v * x;
            my += v * y;
            mxy += v * x * y;
            myy += v * y * y;
        }

        if (m <= 0)
        {
            return (0, (height - 1) / 2.0);
        }

        double cx = mx / m, cy = my / m;
        double mu11 = (mxy / m) - (cx * cy), mu02 = (myy / m) - (cy * cy);
        return (mu02 > 1e-6 ? Math.Clamp(mu11 / mu02, -MaxSkew, MaxSkew) : 0, cy);
    }

    /// <summary>
    /// Writes the deskewed frame: each output pixel (x, y) reads the input at (x + skew·(y − centre row), y),
    /// interpolated linearly along the row, zero outside.
    /// </summary>
    /// <param name="source">One plane of intensities, row-major, background 0.</param>
    /// <param name="destination">Receives the deskewed plane; same length, not overlapping <paramref name="source"/>.</param>
    /// <param name="width">Columns.</param>
    /// <param name="height">Rows.</param>
    /// <exception cref="ArgumentException">The lengths do not match width × height.</exception>
    public static void Apply(ReadOnlySpan<float> source, Span<float> destination, int width, int height)
    {
        CheckShape(source.Length, width, height);
        if (destination.Length != source.Length)
        {
            throw new ArgumentException($"destination holds {destination.Length} values; expected {source.Length}", nameof(destination));
        }

        var (skew, cy) = Measure(source, width, height);
        for (int y = 0; y < height; y++)
        {
            double shift = skew * (y - cy);
            var row = source.Slice(y * width, width);
            for (int x = 0; x < width; x++)
            {
                destination[(y * width) + x] = Sample(row, x + shift);
            }
        }
    }

    /// <summary>The row's value at a fractional column, linear between neighbours, zero beyond either end.</summary>
    private static float Sample(ReadOnlySpan<float> row, double x)
    {
        int left = (int)Math.Floor(x);
        float t = (float)(x - left);
        float a = left >= 0 && left < row.Length ? row[left] : 0;
        float b = left + 1 >= 0 && left + 1 < row.Length ? row[left + 1] : 0;
        return a + ((b - a) * t);
    }

    private static void CheckShape(int length, int width, int height)
    {
        if (width < 1 || height < 1 || (long)width * height != length)
        {
            throw new ArgumentException($"a {width}×{height} frame holds {(long)width * height} values; got {length}");
        }
    }
}
