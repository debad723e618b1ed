namespace Cnn.Train.Training;

/// <summary>How well the softmax probabilities of a set match how often the answers are right.</summary>
/// <param name="Temperature">The logits are divided by this before softmax: fitted on the validation split, 1 when fitting did not lower the validation ECE.</param>
/// <param name="TestEce">Expected calibration error on the test split at temperature 1.</param>
/// <param name="TestEceCalibrated">The same at <paramref name="Temperature"/>.</param>
public sealed record Calibration(double Temperature, double TestEce, double TestEceCalibrated);

/// <summary>
/// Temperature scaling (Guo et al. 2017): one number T dividing the logits, chosen to minimise the negative
/// log-likelihood of the validation labels; it changes no prediction, only how sure each one says it is.
/// </summary>
public static class TemperatureScaling
{
    private const int Bins = 10;

    /// <summary>Fits T on the validation logits and reports the test ECE before and after; T stays 1 unless it lowers the validation ECE.</summary>
    public static Calibration Calibrate(Evaluation validation, long[] validationLabels, Evaluation test, long[] testLabels, int classes)
    {
        double t = Fit(validation.Logits, classes, validationLabels);
        double before = Ece(Confidences(validation.Logits, classes, validationLabels, 1));
        double after = Ece(Confidences(validation.Logits, classes, validationLabels, t));
        double applied = after < before ? t : 1;
        return new Calibration(applied, Ece(Confidences(test.Logits, classes, testLabels, 1)), Ece(Confidences(test.Logits, classes, testLabels, applied)));
    }

    /// <summary>The T in [0.05, 20] with the least negative log-likelihood: a golden-section search over log T (the NLL is convex in 1/T).</summary>
    public static double Fit(float[] logits, int classes, long[] labels)
    {
        double lo = Math.Log(0.05), hi = Math.Log(20);
        double phi = (Math.Sqrt(5) - 1) / 2;
        for (int i = 0; i < 80; i++)
        {
            double a = hi - (phi * (hi - lo)), b = lo + (phi * (hi - lo));
            if (Nll(logits, classes, labels, Math.Exp(a)) < Nll(logits, classes, labels, Math.Exp(b)))
            {
                hi = b;
            }
            else
            {
                lo = a;
            }
        }

        return Math.Exp((lo + hi) / 2);
    }

    /// <summary>Mean negative log-likelihood of the labels under softmax(logits / t).</summary>
    public static double Nll(float[] logits, int classes, long[] labels, double t)
    {
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = logits.AsSpan(i * classes, classes);
            double max = double.NegativeInfinity;
            foreach (var v in row)
            {
                max = Math.Max(max, v / t);
            }

            double z = 0;
            foreach (var v in row)
            {
                z += Math.Exp((v / t) - max);
            }

            sum += max + Math.Log(z) - (row[(int)labels[i]] / t);
        }

        return sum / labels.Length;
    }

    /// <summary>Each image's top softmax probability at temperature t, and whether the top class is the label.</summary>
    public static (float Confidence, bool Correct)[] Confidences(float[] logits, int classes, long[] labels, double t)
    {
        var result = new (float, bool)[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            var row = logits.AsSpan(i * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                best = row[c] > row[best] ? c : best;
            }

            double z = 0;
            foreach (var v in row)
            {
                z += Math.Exp((v - row[best]) / t);
            }

            result[i] = ((float)(1 / z), best == labels[i]);
        }

        return result;
    }

    /// <summary>Expected calibration error over 10 equal-width confidence bins: the bins' |accuracy − confidence| weighted by their share.</summary>
    public static double Ece(IReadOnlyList<(float Confidence, bool Correct)> results) =>
        Reliability(results).Sum(b => (double)b.Count / results.Count * Math.Abs(b.Accuracy - b.Confidence));

    /// <summary>Per confidence bin: how many answers, their mean confidence and their accuracy (empty bins left out).</summary>
    public static IReadOnlyList<(int Bin, int Count, double Confidence, double Accuracy)> Reliability(IReadOnlyList<(float Confidence, bool Correct)> results) =>
        [.. results.GroupBy(r => Math.Min(Bins - 1, (int)(r.Confidence * Bins))).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Count(), g.Average(r => (double)r.Confidence), g.Average(r => r.Correct ? 1.0 : 0.0)))];
}
