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

    /// <summary>Each of <paramref name="names"/>' range by <paramref name="method"/> over <paramref name="count"/> images.</summary>
    public static IReadOnlyDictionary<string, TensorRange> Ranges(CalibrationMethod method, ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape)
    {
        var minMax = MinMax(model, names, images, count, shape);
        return method == CalibrationMethod.MinMax ? minMax : Percentile(model, names, images, count, shape, minMax);
    }

    /// <summary>
    /// The <see cref="Tail"/> and 1 − Tail quantiles of each tensor's values, from a histogram of <see cref="Bins"/>
    /// bins over its min-max range (a second pass over the images).
    /// </summary>
    private static Dictionary<string, TensorRange> Percentile(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape, IReadOnlyDictionary<string, TensorRange> minMax)
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
