using System.Globalization;
using SkiaSharp;

namespace Cnn.Reports;

/// <summary>A line/marker series of a <see cref="Chart"/>.</summary>
internal sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, SKColor Color);

/// <summary>
/// A small x–y chart drawn with SkiaSharp: axes with ticks, optional log-scale x, lines with markers, a legend and an
/// optional marked x position. (ScottPlot 5.1, the only version served here, needs SkiaSharp 3; ML.NET's image
/// transforms need 2.88, and one process can load only one.)
/// </summary>
internal sealed class Chart
{
    public static readonly SKColor[] Palette =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189),
        new(140, 86, 75), new(227, 119, 194), new(127, 127, 127), new(188, 189, 34), new(23, 190, 207),
    ];

    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";
    public bool LogX { get; init; }
    public List<Series> Series { get; } = [];

    /// <summary>An x position to mark with a dashed vertical line and a label, e.g. the best epoch.</summary>
    public (double X, string Label)? Marker { get; init; }

    public void SavePng(string path, int width = 640, int height = 420)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        surface.Canvas.Clear(SKColors.White);
        Draw(surface.Canvas, new SKRect(0, 0, width, height));
        Drawing.SavePng(surface, path);
    }

    public void Draw(SKCanvas canvas, SKRect area)
    {
        using var title = Drawing.Text(16);
        canvas.DrawText(Title, area.Left + 12, area.Top + 24, title);
        var points = Series.SelectMany(Valid).ToList();
        if (points.Count == 0)
        {
            return;
        }

        var frame = Frame.Fit(new SKRect(area.Left + 72, area.Top + 40, area.Right - 20, area.Bottom - 56), points, LogX);
        using var tickText = Drawing.Text(11, new SKColor(50, 50, 50));
        DrawAxes(canvas, area, frame, points, tickText);
        if (Marker is { } marker && (!LogX || marker.X > 0))
        {
            using var dashed = new SKPaint { Color = new SKColor(90, 90, 90), StrokeWidth = 1, PathEffect = SKPathEffect.CreateDash([5, 4], 0) };
            canvas.DrawLine(frame.Px(marker.X), frame.Plot.Top, frame.Px(marker.X), frame.Plot.Bottom, dashed);
            // Right of the line, unless that runs out of the plot (a best epoch that is the last one).
            float width = tickText.MeasureText(marker.Label);
            float x = frame.Px(marker.X) + 4 + width > frame.Plot.Right ? frame.Px(marker.X) - 4 - width : frame.Px(marker.X) + 4;
            canvas.DrawText(marker.Label, x, frame.Plot.Bottom - 6, tickText);
        }

        foreach (var s in Series)
        {
            DrawSeries(canvas, frame, s);
        }

        DrawLegend(canvas, frame, points);
    }

    /// <summary>The points of a series that can be drawn: finite, and positive x on a log scale.</summary>
    private IEnumerable<(double X, double Y)> Valid(Series s) =>
        s.X.Zip(s.Y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second) && (!LogX || p.First > 0));

    private void DrawAxes(SKCanvas canvas, SKRect area, Frame frame, List<(double X, double Y)> points, SKPaint tickText)
    {
        var plot = frame.Plot;
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        foreach (double y in NiceTicks(frame.YMin, frame.YMax))
        {
            canvas.DrawLine(plot.Left, frame.Py(y), plot.Right, frame.Py(y), grid);
            string label = y.ToString("G4", CultureInfo.InvariantCulture);
            canvas.DrawText(label, plot.Left - 6 - tickText.MeasureText(label), frame.Py(y) + 4, tickText);
        }

        // A log axis is ticked at the values swept (learning rates); a linear one at round numbers.
        var xTicks = LogX ? points.Select(p => p.X).Distinct().Order().ToList() : NiceTicks(frame.XMin, frame.XMax).ToList();
        foreach (double x in xTicks)
        {
            canvas.DrawLine(frame.Px(x), plot.Top, frame.Px(x), plot.Bottom, grid);
            string label = LogX ? x.ToString("0.#e0", CultureInfo.InvariantCulture) : x.ToString("G4", CultureInfo.InvariantCulture);
            canvas.DrawText(label, frame.Px(x) - (tickText.MeasureText(label) / 2), plot.Bottom + 16, tickText);
        }

        canvas.DrawRect(plot, axis);
        using var labelText = Drawing.Text(12);
        canvas.DrawText(XLabel, plot.MidX - (labelText.MeasureText(XLabel) / 2), plot.Bottom + 38, labelText);
        canvas.Save();
        canvas.RotateDegrees(-90, area.Left + 16, plot.MidY);
        canvas.DrawText(YLabel, area.Left + 16 - (labelText.MeasureText(YLabel) / 2), plot.MidY + 4, labelText);
        canvas.Restore();
    }

    private void DrawSeries(SKCanvas canvas, Frame frame, Series s)
    {
        using var line = new SKPaint { Color = s.Color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var dot = new SKPaint { Color = s.Color, IsAntialias = true };
        var valid = Valid(s).ToList();
        for (int i = 1; i < valid.Count; i++)
        {
            canvas.DrawLine(frame.Px(valid[i - 1].X), frame.Py(valid[i - 1].Y), frame.Px(valid[i].X), frame.Py(valid[i].Y), line);
        }

        foreach (var (x, y) in valid)
        {
            canvas.DrawCircle(frame.Px(x), frame.Py(y), 3.5f, dot);
        }
    }

    private void DrawLegend(SKCanvas canvas, Frame frame, List<(double X, double Y)> points)
    {
        var plot = frame.Plot;
        using var legendText = Drawing.Text(11);
        float legendWidth = Series.Count == 0 ? 0 : Series.Max(s => legendText.MeasureText(s.Name)) + 34;
        float legendHeight = (Series.Count * 16) + 6;
        // Top right unless data lies there; then bottom right.
        bool dataTopRight = points.Any(p => frame.Px(p.X) > plot.Right - legendWidth - 8 && frame.Py(p.Y) < plot.Top + legendHeight + 8);
        float ly = dataTopRight ? plot.Bottom - legendHeight - 4 : plot.Top + 8;
        using var legendBack = new SKPaint { Color = new SKColor(255, 255, 255, 220) };
        canvas.DrawRect(plot.Right - legendWidth - 8, ly - 4, legendWidth, legendHeight, legendBack);
        foreach (var s in Series)
        {
            using var swatch = new SKPaint { Color = s.Color };
            canvas.DrawRect(plot.Right - legendWidth, ly + 3, 16, 4, swatch);
            canvas.DrawText(s.Name, plot.Right - legendWidth + 22, ly + 10, legendText);
            ly += 16;
        }
    }

    /// <summary>The plot area and the data ranges it shows (padded), with the mapping from data to pixels.</summary>
    private sealed record Frame(SKRect Plot, double XMin, double XMax, double YMin, double YMax, bool LogX)
    {
        public static Frame Fit(SKRect plot, List<(double X, double Y)> points, bool logX)
        {
            double Tx(double x) => logX ? Math.Log10(x) : x;
            double xMin = points.Min(p => Tx(p.X)), xMax = points.Max(p => Tx(p.X));
            double yMin = points.Min(p => p.Y), yMax = points.Max(p => p.Y);
            (xMin, xMax) = xMax == xMin ? (xMin - 1, xMax + 1) : (xMin, xMax);
            (yMin, yMax) = yMax == yMin ? (yMin - 1, yMax + 1) : (yMin, yMax);
            double yPad = (yMax - yMin) * 0.08, xPad = (xMax - xMin) * 0.05;
            return new Frame(plot, xMin - xPad, xMax + xPad, yMin - yPad, yMax + yPad, logX);
        }

        public float Px(double x) => (float)(Plot.Left + (((LogX ? Math.Log10(x) : x) - XMin) / (XMax - XMin) * Plot.Width));

        public float Py(double y) => (float)(Plot.Bottom - ((y - YMin) / (YMax - YMin) * Plot.Height));
    }

    /// <summary>About five ticks at 1, 2 or 5 × 10^k steps covering [min, max].</summary>
    internal static IEnumerable<double> NiceTicks(double min, double max)
    {
        double raw = (max - min) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        for (double t = Math.Ceiling(min / step) * step; t <= max + (step * 1e-9); t += step)
        {
            double tick = Math.Round(t / step) * step;
            yield return tick == 0 ? 0 : tick; // no "-0" label
        }
    }
}
