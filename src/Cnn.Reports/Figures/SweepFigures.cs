using System.Globalization;
using Cnn.Train.Training;

namespace Cnn.Reports;

/// <summary>The sweep's plots: accuracy against learning rate and against parameters, validation-loss curves per learning rate, epochs until early stop.</summary>
public static class SweepFigures
{
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<SweepResult> results)
    {
        var widths = results.Select(r => r.Point.Width).Distinct().Order().ToList();
        var rates = results.Select(r => r.Point.LearningRate).Distinct().Order().ToList();
        string W(double w) => w.ToString("G", CultureInfo.InvariantCulture);
        string L(double lr) => lr.ToString("0.#e0", CultureInfo.InvariantCulture);
        var mean = results.GroupBy(r => (r.Point.LearningRate, r.Point.Width))
            .ToDictionary(g => g.Key, g => (Accuracy: g.Average(r => r.Summary.TestAccuracy * 100), Epochs: g.Average(r => (double)r.Summary.EpochsRun), Parameters: (double)g.First().Summary.Parameters));
        var written = new List<string>();

        var byRate = new Chart { Title = "Test accuracy against learning rate", XLabel = "learning rate (log scale)", YLabel = "test accuracy (%)", LogX = true };
        var epochs = new Chart { Title = "Epochs run (early stopping) against learning rate", XLabel = "learning rate (log scale)", YLabel = "epochs run", LogX = true };
        for (int i = 0; i < widths.Count; i++)
        {
            var lrs = rates.Where(lr => mean.ContainsKey((lr, widths[i]))).ToList();
            byRate.Series.Add(new Series($"width {W(widths[i])}", lrs, lrs.Select(lr => mean[(lr, widths[i])].Accuracy).ToList(), Chart.Palette[i % Chart.Palette.Length]));
            epochs.Series.Add(new Series($"width {W(widths[i])}", lrs, lrs.Select(lr => mean[(lr, widths[i])].Epochs).ToList(), Chart.Palette[i % Chart.Palette.Length]));
        }

        var byParameters = new Chart { Title = "Test accuracy against parameters (width)", XLabel = "parameters", YLabel = "test accuracy (%)" };
        for (int i = 0; i < rates.Count; i++)
        {
            var ws = widths.Where(w => mean.ContainsKey((rates[i], w))).ToList();
            byParameters.Series.Add(new Series($"lr {L(rates[i])}", ws.Select(w => mean[(rates[i], w)].Parameters).ToList(), ws.Select(w => mean[(rates[i], w)].Accuracy).ToList(), Chart.Palette[i % Chart.Palette.Length]));
        }

        // Curves at the width closest to 1 and the first seed: one line per learning rate.
        double curveWidth = widths.OrderBy(w => Math.Abs(w - 1)).First();
        var curves = new Chart { Title = $"Validation loss per epoch (width {W(curveWidth)})", XLabel = "epoch", YLabel = "validation loss" };
        for (int i = 0; i < rates.Count; i++)
        {
            var run = results.Where(r => r.Point.LearningRate == rates[i] && r.Point.Width == curveWidth).OrderBy(r => r.Point.Seed).FirstOrDefault();
            if (run != null)
            {
                var metrics = new RunFolder(Path.Combine(folder, run.Point.FolderName)).ReadMetrics();
                curves.Series.Add(new Series($"lr {L(rates[i])}", metrics.Select(m => (double)m.Epoch).ToList(), metrics.Select(m => m.ValidationLoss).ToList(), Chart.Palette[i % Chart.Palette.Length]));
            }
        }

        foreach (var (chart, name) in new[] { (byRate, "accuracy_vs_lr.png"), (byParameters, "accuracy_vs_parameters.png"), (curves, "val_loss_curves.png"), (epochs, "epochs_vs_lr.png") })
        {
            string path = Path.Combine(folder, name);
            chart.SavePng(path);
            written.Add(path);
        }

        return written;
    }
}
