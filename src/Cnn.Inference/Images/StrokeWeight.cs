namespace Cnn.Inference;

/// <summary>
/// Brings a digit's stroke weight towards the training data's: while the frame's mean intensity is far above the
/// training mean (a marker pen) it is eroded, while far below it (a hairline) dilated, with a 3×3 cross, at most twice.
/// </summary>
internal static class StrokeWeight
{
    /// <summary>Strokes whose mean intensity is this many times the training mean count as too thick.</summary>
    internal const double ThickFactor = 2.2;

    /// <summary>Strokes whose mean intensity is below this share of the training mean count as too thin.</summary>
    internal const double ThinFactor = 0.45;

    private const int MaxPasses = 2;

    private static readonly (int Dx, int Dy)[] Cross = [(0, -1), (-1, 0), (1, 0), (0, 1)];

    public static float[] Normalise(float[] frame, int width, int height, double targetInk)
    {
        for (int pass = 0; pass < MaxPasses; pass++)
        {
            double mean = frame.Average();
            if (mean > targetInk * ThickFactor)
            {
                frame = Morph(frame, width, height, erode: true);
            }
            else if (mean < targetInk * ThinFactor)
            {
                frame = Morph(frame, width, height, erode: false);
            }
            else
            {
                break;
            }
        }

        return frame;
    }

    private static float[] Morph(float[] frame, int width, int height, bool erode)
    {
        var result = new float[frame.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float v = frame[(y * width) + x];
                foreach (var (dx, dy) in Cross)
                {
                    int nx = x + dx, ny = y + dy;
                    float n = nx >= 0 && ny >= 0 && nx < width && ny < height ? frame[(ny * width) + nx] : 0;
                    v = erode ? Math.Min(v, n) : Math.Max(v, n);
                }

                result[(y * width) + x] = v;
            }
        }

        return result;
    }
}
