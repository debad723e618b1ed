using System.Globalization;
using Cnn.Inference;
using SkiaSharp;

namespace Cnn.Reports;

/// <summary>
/// One layer's feature maps as a grid: a tile per channel in viridis on the layer's common scale (so tiles compare),
/// a title, a label per tile and a colour bar with the scale's ends — the seed's figures 1–3.
/// </summary>
public static class FeatureMapFigure
{
    private const int Margin = 16;
    private const int TitleHeight = 40;
    private const int LabelHeight = 16;
    private const int BarWidth = 18;
    private const int BarGap = 24;
    private const int BarLabelWidth = 70;
    private const int MinTile = 84;

    public static void Save(FeatureMap map, string title, string path)
    {
        int columns = (int)Math.Ceiling(Math.Sqrt(map.Channels));
        int rows = (int)Math.Ceiling(map.Channels / (double)columns);
        int scale = Math.Max(1, (int)Math.Ceiling(MinTile / (double)Math.Max(map.Height, map.Width)));
        int tileW = map.Width * scale;
        int tileH = map.Height * scale;
        int gridW = columns * (tileW + Margin);
        int gridH = rows * (tileH + LabelHeight + Margin);
        using var titlePaint = Drawing.Text(18);
        int width = Math.Max(Margin + gridW + BarGap + BarWidth + BarLabelWidth, (int)Math.Ceiling(titlePaint.MeasureText(title)) + (2 * Margin));
        int height = TitleHeight + gridH + Margin;
        float min = map.Values.Min();
        float max = map.Values.Max();
        float span = max > min ? max - min : 1;

        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        canvas.DrawText(title, Margin, 26, titlePaint);

        using var labelPaint = Drawing.Text(11, new SKColor(60, 60, 60));
        for (int c = 0; c < map.Channels; c++)
        {
            int x = Margin + ((c % columns) * (tileW + Margin));
            int y = TitleHeight + ((c / columns) * (tileH + LabelHeight + Margin));
            canvas.DrawText($"{map.Name}[{c}]", x, y + 11, labelPaint);
            using var tile = new SKBitmap(map.Width, map.Height);
            var plane = map.Channel(c);
            for (int py = 0; py < map.Height; py++)
            {
                for (int px = 0; px < map.Width; px++)
                {
                    tile.SetPixel(px, py, Drawing.Colormap((plane[(py * map.Width) + px] - min) / span));
                }
            }

            using var paint = new SKPaint { FilterQuality = SKFilterQuality.None, IsAntialias = false };
            canvas.DrawBitmap(tile, new SKRect(x, y + LabelHeight, x + tileW, y + LabelHeight + tileH), paint);
        }

        DrawColorBar(canvas, Margin + gridW + BarGap, TitleHeight + LabelHeight, Math.Max(tileH, gridH - LabelHeight - Margin), min, max);
        Drawing.SavePng(surface, path);
    }

    /// <summary>A vertical viridis bar, max at the top, with its end values.</summary>
    private static void DrawColorBar(SKCanvas canvas, int x, int y, int height, float min, float max)
    {
        for (int i = 0; i < height; i++)
        {
            using var paint = new SKPaint { Color = Drawing.Colormap(1 - (i / (float)(height - 1))) };
            canvas.DrawRect(x, y + i, BarWidth, 1, paint);
        }

        using var border = new SKPaint { Color = SKColors.Gray, Style = SKPaintStyle.Stroke };
        canvas.DrawRect(x, y, BarWidth, height, border);
        using var text = Drawing.Text(11);
        canvas.DrawText(max.ToString("G4", CultureInfo.InvariantCulture), x + BarWidth + 4, y + 10, text);
        canvas.DrawText(min.ToString("G4", CultureInfo.InvariantCulture), x + BarWidth + 4, y + height, text);
    }
}
