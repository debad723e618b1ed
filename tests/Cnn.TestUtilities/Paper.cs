using SkiaSharp;

namespace Cnn.Tests;

/// <summary>Grey paper for drawings of digits, shared by the tests' drawings and the handwriting benchmark's photos.</summary>
public static class Paper
{
    /// <summary>
    /// Opaque grey paper: each pixel <paramref name="mean"/> ± <paramref name="spread"/> (uniform, clamped to a byte),
    /// drawn row by row from <paramref name="random"/>, so the same generator state gives the same sheet.
    /// </summary>
    public static SKImage Noisy(int width, int height, Random random, int mean, int spread)
    {
        var rgba = new byte[width * height * 4];
        for (int p = 0; p < width * height; p++)
        {
            byte v = (byte)Math.Clamp(mean + random.Next(-spread, spread + 1), 0, 255);
            rgba[4 * p] = rgba[(4 * p) + 1] = rgba[(4 * p) + 2] = v;
            rgba[(4 * p) + 3] = 255;
        }

        return SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
    }
}
