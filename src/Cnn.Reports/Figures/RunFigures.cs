using System.Globalization;
using Cnn.Train.Data;
using Cnn.Train.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Reports;

/// <summary>
/// The figures every run gets in its folder: curves.png (loss and accuracy per epoch, best epoch marked),
/// confusion.png (test set, with class names), mistakes.png (the most confident wrong test predictions),
/// calibration.png (the test set's reliability diagram before and after temperature scaling) and
/// architecture.svg / architecture.png (generated from the model's module tree).
/// </summary>
public static class RunFigures
{
    public const string Curves = "curves.png";
    public const string Confusion = "confusion.png";
    public const string Mistakes = "mistakes.png";
    public const string Calibration = "calibration.png";
    public const string ArchitecturePng = "architecture.png";
    public const string ArchitectureSvg = "architecture.svg";
    private const int MistakeCount = 16;

    /// <summary>Draws every figure from the run's metrics and the test set's predictions (<paramref name="test"/>).</summary>
    public static IReadOnlyList<string> Write(RunFolder run, RunConfig config, TrainingData data, RunSummary summary, Evaluation test)
    {
        DrawCurves(run.ReadMetrics(), summary.BestEpoch, run.File(Curves));
        var testLabels = data.Test.Labels.data<long>().ToArray();
        var labels = testLabels.Select(l => (int)l).ToArray();
        DrawConfusion(test.Confusion(labels, config.Data.ClassNames.Count), config.Data.ClassNames, run.File(Confusion));
        DrawMistakes(data.Test, labels, test.Predicted, test.Confidence, config.Data.ClassNames, run.File(Mistakes));
        DrawCalibration(test, testLabels, config.Data.ClassNames.Count, summary, run.File(Calibration));
        // The architecture needs the module tree only, not the trained weights.
        using var model = config.Model.Build();
        var layers = ArchitectureFigure.Describe(model, [config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize]);
        ArchitectureFigure.Save(layers, $"{config.Model.Name} ({summary.Parameters:N0} parameters)", run.File(ArchitectureSvg), run.File(ArchitecturePng));
        return [Curves, Confusion, Mistakes, Calibration, ArchitectureSvg, ArchitecturePng];
    }

    private static void DrawCurves(IReadOnlyList<EpochMetrics> metrics, int bestEpoch, string path)
    {
        var epochs = metrics.Select(m => (double)m.Epoch).ToList();
        var loss = new Chart { Title = "Loss", XLabel = "epoch", YLabel = "cross-entropy", Marker = (bestEpoch, $"best epoch {bestEpoch}") };
        loss.Series.Add(new Series("train", epochs, metrics.Select(m => m.TrainLoss).ToList(), Chart.Palette[0]));
        loss.Series.Add(new Series("validation", epochs, metrics.Select(m => m.ValidationLoss).ToList(), Chart.Palette[1]));
        var accuracy = new Chart { Title = "Accuracy", XLabel = "epoch", YLabel = "accuracy (%)", Marker = (bestEpoch, $"best epoch {bestEpoch}") };
        accuracy.Series.Add(new Series("train", epochs, metrics.Select(m => m.TrainAccuracy * 100).ToList(), Chart.Palette[0]));
        accuracy.Series.Add(new Series("validation", epochs, metrics.Select(m => m.ValidationAccuracy * 100).ToList(), Chart.Palette[1]));
        using var surface = SKSurface.Create(new SKImageInfo(1280, 420));
        surface.Canvas.Clear(SKColors.White);
        loss.Draw(surface.Canvas, new SKRect(0, 0, 640, 420));
        accuracy.Draw(surface.Canvas, new SKRect(640, 0, 1280, 420));
        Drawing.SavePng(surface, path);
    }

    private static void DrawConfusion(int[,] counts, IReadOnlyList<string> names, string path)
    {
        int n = names.Count;
        int total = counts.Cast<int>().Sum();

        int cell = n <= 10 ? 44 : 26;
        using var nameText = Drawing.Text(n <= 10 ? 12 : 10);
        float labelWidth = names.Max(s => nameText.MeasureText(s)) + 10;
        int left = (int)labelWidth + 30, top = 66 + (int)labelWidth;
        using var surface = SKSurface.Create(new SKImageInfo(Math.Max(left + (n * cell) + 20, 460), top + (n * cell) + 40));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var title = Drawing.Text(16))
        {
            double accuracy = Enumerable.Range(0, n).Sum(i => counts[i, i]) / (double)total;
            canvas.DrawText($"Confusion matrix: {total:N0} test images, {accuracy.ToString("P2", CultureInfo.InvariantCulture)} correct", 10, 24, title);
            using var note = Drawing.Text(12, new SKColor(80, 80, 80));
            canvas.DrawText("rows: true class, columns: predicted class; colour: share of the row", 10, 44, note);
        }

        using var countText = Drawing.Text(n <= 10 ? 11 : 8);
        for (int r = 0; r < n; r++)
        {
            int rowTotal = Enumerable.Range(0, n).Sum(c => counts[r, c]);
            canvas.DrawText(names[r], left - 6 - nameText.MeasureText(names[r]), top + (r * cell) + (cell / 2) + 4, nameText);
            for (int c = 0; c < n; c++)
            {
                float share = rowTotal == 0 ? 0 : counts[r, c] / (float)rowTotal;
                using var fill = new SKPaint { Color = Drawing.Colormap(share) };
                canvas.DrawRect(left + (c * cell), top + (r * cell), cell - 1, cell - 1, fill);
                if (counts[r, c] > 0)
                {
                    using var text = Drawing.Text(countText.TextSize, share > 0.6f ? SKColors.Black : SKColors.White);
                    string label = counts[r, c].ToString(CultureInfo.InvariantCulture);
                    canvas.DrawText(label, left + (c * cell) + ((cell - text.MeasureText(label)) / 2), top + (r * cell) + (cell / 2) + 4, text);
                }
            }
        }

        for (int c = 0; c < n; c++)
        {
            canvas.Save();
            canvas.RotateDegrees(-90, left + (c * cell) + (cell / 2) + 4, top - 6);
            canvas.DrawText(names[c], left + (c * cell) + (cell / 2) + 4, top - 6, nameText);
            canvas.Restore();
        }

        Drawing.SavePng(surface, path);
    }

    /// <summary>
    /// Accuracy against stated probability per 10 %-bin of the test set: on the diagonal a model's "90 %" is right 90 %
    /// of the time. Drawn at temperature 1 and, when the run fitted another, at that one.
    /// </summary>
    private static void DrawCalibration(Evaluation test, long[] labels, int classes, RunSummary summary, string path)
    {
        var temperatures = summary.Temperature == 1 ? new[] { 1.0 } : [1.0, summary.Temperature];
        var confidences = temperatures.Select(t => TemperatureScaling.Confidences(test.Logits, classes, labels, t)).ToList();
        // Most answers of a good net sit in the top bin; the others' points stand for a handful of images each.
        int top = confidences[0].Count(r => r.Confidence >= 0.9f);
        var chart = new Chart
        {
            Title = string.Create(CultureInfo.InvariantCulture, $"Reliability on {labels.Length:N0} test images ({top:N0} stated ≥ 90 % at T = 1)"),
            XLabel = "stated probability of the top class (bin mean)",
            YLabel = "accuracy in the bin",
        };
        chart.Series.Add(new Series("perfectly calibrated", [0, 1], [0, 1], new SKColor(160, 160, 160)));
        for (int k = 0; k < temperatures.Length; k++)
        {
            var results = confidences[k];
            var bins = TemperatureScaling.Reliability(results);
            string name = string.Create(CultureInfo.InvariantCulture, $"T = {temperatures[k]:F2}: ECE {TemperatureScaling.Ece(results):P2}");
            chart.Series.Add(new Series(name, [.. bins.Select(b => b.Confidence)], [.. bins.Select(b => b.Accuracy)], Chart.Palette[k]));
        }

        chart.SavePng(path);
    }

    private static void DrawMistakes(ImageSet test, int[] truth, int[] predicted, float[] confidence, IReadOnlyList<string> names, string path)
    {
        var worst = Enumerable.Range(0, truth.Length).Where(i => truth[i] != predicted[i]).OrderByDescending(i => confidence[i]).Take(MistakeCount).ToList();
        const int tile = 112, captionHeight = 34, columns = 4;
        int rows = Math.Max(1, (worst.Count + columns - 1) / columns);
        using var surface = SKSurface.Create(new SKImageInfo(columns * (tile + 16) + 16, 40 + (rows * (tile + captionHeight + 10))));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var title = Drawing.Text(16))
        {
            canvas.DrawText(worst.Count == 0 ? "No mistakes on the test set" : $"The {worst.Count} most confident mistakes (true → predicted, probability)", 10, 24, title);
        }

        using var caption = Drawing.Text(11);
        using var nearest = new SKPaint { FilterQuality = SKFilterQuality.None };
        for (int k = 0; k < worst.Count; k++)
        {
            int i = worst[k];
            int x = 16 + ((k % columns) * (tile + 16));
            int y = 40 + ((k / columns) * (tile + captionHeight + 10));
            using var image = ToImage(test.Images[i]);
            canvas.DrawImage(image, SKRect.Create(x, y, tile, tile), nearest);
            canvas.DrawText($"{names[truth[i]]} → {names[predicted[i]]}", x, y + tile + 14, caption);
            canvas.DrawText(confidence[i].ToString("P1", CultureInfo.InvariantCulture), x, y + tile + 28, caption);
        }

        Drawing.SavePng(surface, path);
    }

    /// <summary>A uint8 [C, H, W] image (grey for one channel, RGB for three).</summary>
    private static SKImage ToImage(Tensor image)
    {
        int channels = (int)image.shape[0], height = (int)image.shape[1], width = (int)image.shape[2];
        var bytes = image.contiguous().data<byte>().ToArray();
        int plane = height * width;
        var rgba = new byte[plane * 4];
        for (int p = 0; p < plane; p++)
        {
            rgba[4 * p] = bytes[p];
            rgba[(4 * p) + 1] = channels == 3 ? bytes[plane + p] : bytes[p];
            rgba[(4 * p) + 2] = channels == 3 ? bytes[(2 * plane) + p] : bytes[p];
            rgba[(4 * p) + 3] = 255;
        }

        return Drawing.Image(width, height, rgba, SKAlphaType.Opaque);
    }
}
