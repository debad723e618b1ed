using SkiaSharp;

namespace Cnn.Reports;

/// <summary>Shared pieces of the figures: font, colour map, PNG output.</summary>
internal static class Drawing
{
    // SkiaSharp's dependency-free Linux natives have no fontconfig, so the default typeface may draw nothing: load a
    // TrueType file from the usual places first.
    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/Library/Fonts/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];

    private static readonly Lazy<SKTypeface> LazyTypeface = new(() =>
        FontFiles.Where(File.Exists).Select(SKTypeface.FromFile).FirstOrDefault(t => t != null) ?? SKTypeface.Default);

    // Matplotlib's viridis at nine evenly spaced stops; colours in between are interpolated linearly.
    private static readonly SKColor[] Viridis =
    [
        new(68, 1, 84), new(71, 44, 122), new(59, 81, 139), new(44, 113, 142), new(33, 144, 141),
        new(39, 173, 129), new(92, 200, 99), new(170, 220, 50), new(253, 231, 37),
    ];

    public static SKTypeface Typeface => LazyTypeface.Value;

    public static SKPaint Text(float size, SKColor? color = null) => new()
    {
        Typeface = Typeface,
        TextSize = size,
        IsAntialias = true,
        Color = color ?? SKColors.Black,
    };

    /// <summary>Viridis colour of <paramref name="t"/> in [0, 1].</summary>
    public static SKColor Colormap(float t)
    {
        t = Math.Clamp(float.IsNaN(t) ? 0 : t, 0, 1) * (Viridis.Length - 1);
        int i = Math.Min((int)t, Viridis.Length - 2);
        float f = t - i;
        var a = Viridis[i];
        var b = Viridis[i + 1];
        return new SKColor(
            (byte)(a.Red + ((b.Red - a.Red) * f)),
            (byte)(a.Green + ((b.Green - a.Green) * f)),
            (byte)(a.Blue + ((b.Blue - a.Blue) * f)));
    }

    /// <summary>An image over RGBA bytes (copied), for drawing pixels already in memory without encoding them.</summary>
    public static SKImage Image(int width, int height, ReadOnlySpan<byte> rgba, SKAlphaType alpha)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, alpha);
        using var data = SKData.CreateCopy(rgba);
        return SKImage.FromPixels(info, data, info.RowBytes);
    }

    /// <summary>Writes the surface as PNG, atomically.</summary>
    public static void SavePng(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        Cnn.Train.AtomicFile.Write(path, data.SaveTo);
    }
}
