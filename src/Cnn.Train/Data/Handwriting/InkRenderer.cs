using Cnn.Inference;

namespace Cnn.Train.Data.Handwriting;

/// <summary>
/// Draws a digit's ink as a user's input would arrive — strokes with a pen, mouse or finger of some width, with or
/// without anti-aliasing, large or small; bitmaps enlarged, blocky or smooth — as dark ink on light paper, and reads
/// it back through the digit preprocessing <c>cnn predict</c> and the explorer page use (<see cref="ImagePreprocessor.PrepareDigit"/>).
/// Every choice comes from the <see cref="Random"/> handed in, so a seeded one repeats the image bit for bit.
/// </summary>
public static class InkRenderer
{
    /// <summary>The digit's long side on the canvas, in pixels: from a small scan to a large finger drawing.</summary>
    public const float MinSize = 24, MaxSize = 200;

    /// <summary>Pen width as a share of the long side: the explorer's brush (6–40 px) over a digit of about 180 px, and thin pens on tablets.</summary>
    public const float MinPen = 0.03f, MaxPen = 0.2f;

    /// <summary>Share of renderings drawn with anti-aliased edges (the rest hard-edged, as a plain bitmap pen).</summary>
    public const double AntiAliased = 0.75;

    /// <summary>
    /// The digit as a model input of <paramref name="height"/>×<paramref name="width"/> (white ink on black, 0–255), or
    /// null when the preprocessing finds no ink in it.
    /// </summary>
    public static byte[]? Prepare(Ink ink, Random random, int height, int width, double targetInk, bool deskew)
    {
        var image = Draw(ink, random);
        try
        {
            var pixels = ImagePreprocessor.PrepareDigit(image, height, width, targetInk, deskew).Pixels;
            var bytes = new byte[pixels.Length];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)Math.Clamp(MathF.Round(pixels[i] * 255f), 0, 255);
            }

            return bytes;
        }
        catch (NoInkException)
        {
            return null;
        }
    }

    /// <summary>The digit drawn on paper with the style drawn from <paramref name="random"/>.</summary>
    public static DecodedImage Draw(Ink ink, Random random)
    {
        float size = LogUniform(random, MinSize, MaxSize);
        float pen = Math.Max(1f, size * LogUniform(random, MinPen, MaxPen));
        bool smooth = random.NextDouble() < AntiAliased;
        float paper = 0.8f + (0.2f * random.NextSingle());
        float inkGrey = 0.35f * random.NextSingle();
        var (coverage, w, h) = ink switch
        {
            StrokeInk strokes => Strokes(strokes, size, pen, smooth),
            BitmapInk bitmap => Bitmap(bitmap, size, smooth),
            _ => throw new ArgumentException($"unknown ink {ink.GetType().Name}", nameof(ink)),
        };
        var rgba = new byte[w * h * 4];
        for (int p = 0; p < coverage.Length; p++)
        {
            byte grey = (byte)Math.Clamp(MathF.Round((paper - ((paper - inkGrey) * coverage[p])) * 255f), 0, 255);
            rgba[4 * p] = rgba[(4 * p) + 1] = rgba[(4 * p) + 2] = grey;
            rgba[(4 * p) + 3] = 255;
        }

        return new DecodedImage("handwriting render", w, h, rgba);
    }

    private static float LogUniform(Random random, float min, float max) =>
        MathF.Exp(MathF.Log(min) + (random.NextSingle() * (MathF.Log(max) - MathF.Log(min))));

    /// <summary>The strokes scaled so the long side is <paramref name="size"/> px, drawn with round caps and joins.</summary>
    private static (float[] Coverage, int Width, int Height) Strokes(StrokeInk ink, float size, float pen, bool smooth)
    {
        float minX = float.MaxValue, minY = float.MaxValue, maxX = float.MinValue, maxY = float.MinValue;
        foreach (var stroke in ink.Strokes)
        {
            for (int i = 0; i < stroke.Length; i += 2)
            {
                (minX, maxX) = (Math.Min(minX, stroke[i]), Math.Max(maxX, stroke[i]));
                (minY, maxY) = (Math.Min(minY, stroke[i + 1]), Math.Max(maxY, stroke[i + 1]));
            }
        }

        float extent = Math.Max(maxX - minX, maxY - minY);
        float scale = extent > 0 ? size / extent : 1;
        float margin = pen + 4;
        int w = (int)MathF.Ceiling(((maxX - minX) * scale) + (2 * margin)), h = (int)MathF.Ceiling(((maxY - minY) * scale) + (2 * margin));
        var coverage = new float[w * h];
        float radius = pen / 2;
        foreach (var stroke in ink.Strokes)
        {
            var points = new float[stroke.Length];
            for (int i = 0; i < stroke.Length; i += 2)
            {
                points[i] = ((stroke[i] - minX) * scale) + margin;
                points[i + 1] = ((stroke[i + 1] - minY) * scale) + margin;
            }

            for (int i = 0; i < points.Length; i += 2)
            {
                int j = Math.Min(i + 2, points.Length - 2);
                Segment(coverage, w, h, points[i], points[i + 1], points[j], points[j + 1], radius, smooth);
            }
        }

        return (coverage, w, h);
    }

    /// <summary>Coverage of a segment with round ends: 1 inside the pen's radius, a one-pixel ramp at the edge when smooth.</summary>
    private static void Segment(float[] coverage, int w, int h, float x0, float y0, float x1, float y1, float radius, bool smooth)
    {
        int left = Math.Max(0, (int)MathF.Floor(Math.Min(x0, x1) - radius - 1)), right = Math.Min(w - 1, (int)MathF.Ceiling(Math.Max(x0, x1) + radius + 1));
        int top = Math.Max(0, (int)MathF.Floor(Math.Min(y0, y1) - radius - 1)), bottom = Math.Min(h - 1, (int)MathF.Ceiling(Math.Max(y0, y1) + radius + 1));
        float dx = x1 - x0, dy = y1 - y0;
        float length2 = (dx * dx) + (dy * dy);
        for (int y = top; y <= bottom; y++)
        {
            for (int x = left; x <= right; x++)
            {
                float px = x + 0.5f - x0, py = y + 0.5f - y0;
                float t = length2 > 0 ? Math.Clamp(((px * dx) + (py * dy)) / length2, 0, 1) : 0;
                float ex = px - (t * dx), ey = py - (t * dy);
                float distance = MathF.Sqrt((ex * ex) + (ey * ey));
                float c = smooth ? Math.Clamp(radius + 0.5f - distance, 0, 1) : distance <= radius ? 1 : 0;
                int index = (y * w) + x;
                coverage[index] = Math.Max(coverage[index], c);
            }
        }
    }

    /// <summary>The bitmap enlarged so its long side is about <paramref name="size"/> px: bilinear when smooth, blocky otherwise; four pixels of paper around it.</summary>
    private static (float[] Coverage, int Width, int Height) Bitmap(BitmapInk ink, float size, bool smooth)
    {
        int scale = Math.Max(1, (int)MathF.Round(size / Math.Max(ink.Width, ink.Height)));
        const int Margin = 4;
        int w = (ink.Width * scale) + (2 * Margin), h = (ink.Height * scale) + (2 * Margin);
        var coverage = new float[w * h];
        for (int y = 0; y < ink.Height * scale; y++)
        {
            for (int x = 0; x < ink.Width * scale; x++)
            {
                float value = smooth
                    ? Bilinear(ink, ((x + 0.5f) / scale) - 0.5f, ((y + 0.5f) / scale) - 0.5f)
                    : ink.Pixels[((y / scale) * ink.Width) + (x / scale)] ? 1 : 0;
                coverage[((y + Margin) * w) + x + Margin] = value;
            }
        }

        return (coverage, w, h);
    }

    private static float Bilinear(BitmapInk ink, float fx, float fy)
    {
        float At(int x, int y) => x < 0 || y < 0 || x >= ink.Width || y >= ink.Height ? 0 : ink.Pixels[(y * ink.Width) + x] ? 1 : 0;
        int x0 = (int)MathF.Floor(fx), y0 = (int)MathF.Floor(fy);
        float ax = fx - x0, ay = fy - y0;
        float top = (At(x0, y0) * (1 - ax)) + (At(x0 + 1, y0) * ax);
        float bottom = (At(x0, y0 + 1) * (1 - ax)) + (At(x0 + 1, y0 + 1) * ax);
        return (top * (1 - ay)) + (bottom * ay);
    }
}
