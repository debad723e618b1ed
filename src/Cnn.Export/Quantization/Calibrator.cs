using Cnn.Contracts;
using Cnn.Export.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Export.Quantization;

/// <summary>How an activation's 8-bit range is chosen from the values calibration sees.</summary>
public enum CalibrationMethod
{
    /// <summary>From the smallest to the largest value seen: nothing clips, rare outliers widen every step.</summary>
    MinMax,

    /// <summary>
    /// From the 0.001th to the 99.999th percentile of the values seen (ONNX Runtime's quantizer's default percentile),
    /// read off a 2,048-bin histogram over the min-max range: the rarest values clip, the steps are finer.
    /// </summary>
    Percentile,

    /// <summary>
    /// From the smallest value seen to the upper cut whose 8-bit copy of the values' distribution (a 2,048-bin
    /// histogram over the min-max range) loses the least information, by Kullback–Leibler divergence: TensorRT's
    /// entropy calibration, cutting the top only (these activations are ReLU outputs, which start at 0, and the
    /// normalised input, which starts at the blank pixel).
    /// </summary>
    Entropy,
}

/// <summary>
/// Measures the range of each activation the quantizer will put in 8 bits, by running the float graph (with those
/// activations made outputs) over images of a split that did not train it.
/// </summary>
internal static class Calibrator
{
    private const int Batch = 64;
    private const int Bins = 2048;
    private const double Tail = 1e-5;
    private const int Levels = 255;
    private const double Floor = 1e-9;

    /// <summary>Each of <paramref name="names"/>' range by <paramref name="method"/> over <paramref name="count"/> images.</summary>
    public static IReadOnlyDictionary<string, TensorRange> Ranges(CalibrationMethod method, ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape)
    {
        var minMax = MinMax(model, names, images, count, shape);
        return method switch
        {
            CalibrationMethod.MinMax => minMax,
            CalibrationMethod.Percentile => Percentile(model, names, images, count, shape, minMax),
            _ => Entropy(model, names, images, count, shape, minMax),
        };
    }

    /// <summary>Each tensor's histogram of <see cref="Bins"/> bins over its min-max range (a second pass over the images).</summary>
    private static Dictionary<string, long[]> Histograms(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape, IReadOnlyDictionary<string, TensorRange> minMax)
    {
        var histograms = names.ToDictionary(n => n, _ => new long[Bins]);
        Pass(model, names, images, count, shape, (name, values) =>
        {
            var (lo, hi) = (minMax[name].Min, minMax[name].Max);
            float width = hi > lo ? (hi - lo) / Bins : 1;
            var histogram = histograms[name];
            foreach (float v in values)
            {
                histogram[Math.Clamp((int)((v - lo) / width), 0, Bins - 1)]++;
            }
        });
        return histograms;
    }

    /// <summary>
    /// The upper cut (a bin edge) of least KL divergence between the values' distribution with everything above the cut
    /// counted in its last bin, and that distribution in 255 levels; the lower end stays the minimum.
    /// </summary>
    private static Dictionary<string, TensorRange> Entropy(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape, IReadOnlyDictionary<string, TensorRange> minMax)
    {
        var histograms = Histograms(model, names, images, count, shape, minMax);
        return names.ToDictionary(n => n, n =>
        {
            var (lo, hi) = (minMax[n].Min, minMax[n].Max);
            int cut = EntropyCut(histograms[n], Levels);
            return new TensorRange(lo, cut == Bins ? hi : lo + (cut * ((hi - lo) / Bins)));
        });
    }

    /// <summary>The number of bins, from <paramref name="levels"/> up to all of them, to keep below the cut.</summary>
    internal static int EntropyCut(long[] histogram, int levels)
    {
        int best = histogram.Length;
        double bestDivergence = double.PositiveInfinity;
        var sliced = Array.ConvertAll(histogram, v => (double)v);
        var p = (double[])sliced.Clone();
        long outliers = histogram.Skip(levels).Sum();
        for (int cut = levels; cut <= histogram.Length; cut++)
        {
            // P: the bins below the cut, those above added to the last one (what clipping makes of them); Q: the
            // bins below the cut alone, in 8 bits — so the clipped mass is what Q lacks (TensorRT's construction).
            p[cut - 1] = sliced[cut - 1] + outliers;
            double divergence = Divergence(p.AsSpan(0, cut), Quantized(sliced.AsSpan(0, cut), levels));
            if (divergence < bestDivergence)
            {
                (best, bestDivergence) = (cut, divergence);
            }

            p[cut - 1] = sliced[cut - 1];
            outliers -= cut < histogram.Length ? histogram[cut] : 0;
        }

        return best;
    }

    /// <summary>
    /// <paramref name="p"/> merged into <paramref name="levels"/> equal groups of bins, each group's mass spread evenly
    /// over its bins that held any (an empty bin stays empty, as 8 bits cannot put mass where there was none).
    /// </summary>
    private static double[] Quantized(ReadOnlySpan<double> p, int levels)
    {
        var q = new double[p.Length];
        for (int level = 0; level < levels; level++)
        {
            int from = (int)((long)level * p.Length / levels), to = (int)((long)(level + 1) * p.Length / levels);
            double mass = 0;
            int used = 0;
            for (int i = from; i < to; i++)
            {
                mass += p[i];
                used += p[i] > 0 ? 1 : 0;
            }

            for (int i = from; i < to; i++)
            {
                q[i] = p[i] > 0 ? mass / used : 0;
            }
        }

        return q;
    }

    /// <summary>
    /// KL(P ‖ Q) of two histograms over the same bins, each normalised to sum 1; bins where P is empty add nothing,
    /// and a bin where Q is empty but P is not counts as Q holding <see cref="Floor"/> there (a large, finite penalty).
    /// </summary>
    private static double Divergence(ReadOnlySpan<double> p, double[] q)
    {
        double sumP = 0, sumQ = 0, divergence = 0;
        for (int i = 0; i < p.Length; i++)
        {
            (sumP, sumQ) = (sumP + p[i], sumQ + q[i]);
        }

        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] > 0)
            {
                double qi = sumQ > 0 ? Math.Max(q[i] / sumQ, Floor) : Floor;
                divergence += p[i] / sumP * Math.Log(p[i] / sumP / qi);
            }
        }

        return divergence;
    }

    /// <summary>
    /// The <see cref="Tail"/> and 1 − Tail quantiles of each tensor's values, from a histogram of <see cref="Bins"/>
    /// bins over its min-max range (a second pass over the images).
    /// </summary>
    private static Dictionary<string, TensorRange> Percentile(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape, IReadOnlyDictionary<string, TensorRange> minMax)
    {
        var histograms = Histograms(model, names, images, count, shape, minMax);
        return names.ToDictionary(n => n, n =>
        {
            var (lo, hi) = (minMax[n].Min, minMax[n].Max);
            float width = hi > lo ? (hi - lo) / Bins : 0;
            var histogram = histograms[n];
            long total = histogram.Sum(), tail = (long)Math.Floor(total * Tail);
            int first = 0, last = Bins - 1;
            for (long seen = histogram[0]; seen <= tail && first < Bins - 1; seen += histogram[++first])
            {
            }

            for (long seen = histogram[Bins - 1]; seen <= tail && last > 0; seen += histogram[--last])
            {
            }

            // A bin's far edge, so the quantile's own bin stays inside the range; never wider than min-max.
            return new TensorRange(Math.Max(lo, lo + (first * width)), Math.Min(hi, lo + ((last + 1) * width)));
        });
    }

    /// <summary>Each of <paramref name="names"/>' smallest and largest value over <paramref name="count"/> images (raw, [C, H, W] each).</summary>
    public static IReadOnlyDictionary<string, TensorRange> MinMax(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape)
    {
        var min = names.ToDictionary(n => n, _ => float.PositiveInfinity);
        var max = names.ToDictionary(n => n, _ => float.NegativeInfinity);
        Pass(model, names, images, count, shape, (name, values) =>
        {
            float lo = min[name], hi = max[name];
            foreach (float v in values)
            {
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }

            (min[name], max[name]) = (lo, hi);
        });
        return names.ToDictionary(n => n, n => new TensorRange(min[n], max[n]));
    }

    /// <summary>Runs the float graph, with <paramref name="names"/> made outputs, over the images in batches, handing each tensor's values to <paramref name="read"/>.</summary>
    private static void Pass(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape, Action<string, ReadOnlySpan<float>> read)
    {
        var probe = model.Clone();
        foreach (var name in names.Where(n => probe.Graph.Output.All(o => o.Name != n)))
        {
            probe.Graph.Output.Add(new ValueInfoProto { Name = name });
        }

        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(probe.ToByteArray(), options);
        using var run = new RunOptions();
        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            using var input = OrtValue.CreateTensorValueFromMemory(images.AsMemory(start * shape.Length, n * shape.Length).ToArray(), [n, shape.Channels, shape.Height, shape.Width]);
            using var results = session.Run(run, [OnnxNames.Input], [input], [.. names]);
            for (int i = 0; i < names.Count; i++)
            {
                read(names[i], results[i].GetTensorDataAsSpan<float>());
            }
        }
    }
}
