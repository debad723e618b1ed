using System.Globalization;
using Cnn.Inference;
using SkiaSharp;

namespace Cnn.Reports;

/// <summary>
/// One row of the predictions sheet: a thumbnail of the input (at most a cell's size, so a row costs kilobytes however
/// large the photo; premultiplied RGBA), what the net saw, and its prediction.
/// </summary>
public sealed record SheetRow(string File, int ThumbWidth, int ThumbHeight, byte[] Thumbnail, PreparedImage Prepared, Prediction Prediction)
{
    public static SheetRow Of(string file, DecodedImage original, PreparedImage prepared, Prediction prediction)
    {
        float s = Math.Min(1, Math.Min(PredictionSheet.Cell / (float)original.Width, PredictionSheet.Cell / (float)original.Height));
        int w = Math.Max(1, (int)MathF.Round(original.Width * s)), h = Math.Max(1, (int)MathF.Round(original.Height * s));
        using var source = Drawing.Image(original.Width, original.Height, original.Rgba.Span, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var smooth = new SKPaint { FilterQuality = SKFilterQuality.High })
        {
            canvas.Clear(SKColors.Transparent);
            canvas.DrawImage(source, SKRect.Create(w, h), smooth);
        }

        var pixels = bitmap.Bytes;
        return new SheetRow(file, w, h, pixels, prepared, prediction);
    }
}

/// <summary>The seed's figure 4: each input, what the net saw (the preprocessed image) and the predicted label.</summary>
public static class PredictionSheet
{
    /// <summary>The most images one sheet draws; a larger run draws its first ones and says so.</summary>
    public const int MaxRows = 200;

    public const int Cell = 112;
    private const int Margin = 12;
    private const int TextWidth = 260;
    private const int HeaderHeight = 28;

    public static void Save(IReadOnlyList<SheetRow> rows, int answered, string path)
    {
        int width = Margin + Cell + Margin + Cell + Margin + TextWidth;
        int footer = answered > rows.Count ? HeaderHeight : 0;
        int height = HeaderHeight + (rows.Count * (Cell + Margin)) + Margin + footer;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var header = Drawing.Text(13, new SKColor(80, 80, 80));
        canvas.DrawText("input", Margin, 20, header);
        canvas.DrawText("what the net saw", (2 * Margin) + Cell, 20, header);
        canvas.DrawText("prediction", (3 * Margin) + (2 * Cell), 20, header);
        for (int r = 0; r < rows.Count; r++)
        {
            DrawRow(canvas, rows[r], HeaderHeight + (r * (Cell + Margin)));
        }

        if (footer > 0)
        {
            canvas.DrawText($"the first {rows.Count:N0} of {answered:N0} images", Margin, height - 12, header);
        }

        Drawing.SavePng(surface, path);
    }

    private static void DrawRow(SKCanvas canvas, SheetRow row, int y)
    {
        using var smooth = new SKPaint { FilterQuality = SKFilterQuality.High };
        using (var original = Drawing.Image(row.ThumbWidth, row.ThumbHeight, row.Thumbnail, SKAlphaType.Premul))
        {
            float s = Math.Min(Cell / (float)original.Width, Cell / (float)original.Height);
            float w = original.Width * s, h = original.Height * s;
            canvas.DrawImage(original, SKRect.Create(Margin + ((Cell - w) / 2), y + ((Cell - h) / 2), w, h), smooth);
        }

        using var nearest = new SKPaint { FilterQuality = SKFilterQuality.None };
        using (var seen = Drawing.Image(row.Prepared.Width, row.Prepared.Height, row.Prepared.ToRgba(), SKAlphaType.Opaque))
        {
            canvas.DrawImage(seen, SKRect.Create((2 * Margin) + Cell, y, Cell, Cell), nearest);
        }

        int tx = (3 * Margin) + (2 * Cell);
        using var big = Drawing.Text(30);
        using var small = Drawing.Text(12, new SKColor(60, 60, 60));
        canvas.DrawText(row.Prediction.Label, tx, y + 36, big);
        canvas.DrawText(row.Prediction.Probability.ToString("P1", CultureInfo.InvariantCulture), tx, y + 56, small);
        canvas.DrawText(Path.GetFileName(row.File), tx, y + 76, small);
    }
}
