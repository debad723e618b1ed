using Cnn.Contracts;
using Cnn.Export.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Export.Quantization;

/// <summary>
/// Measures the range of each activation the quantizer will put in 8 bits, by running the float graph (with those
/// activations made outputs) over images of a split that did not train it.
/// </summary>
internal static class Calibrator
{
    private const int Batch = 64;

    /// <summary>Each of <paramref name="names"/>' smallest and largest value over <paramref name="count"/> images (raw, [C, H, W] each).</summary>
    public static IReadOnlyDictionary<string, TensorRange> MinMax(ModelProto model, IReadOnlyList<string> names, float[] images, int count, TensorShape shape)
    {
        var probe = model.Clone();
        foreach (var name in names.Where(n => probe.Graph.Output.All(o => o.Name != n)))
        {
            probe.Graph.Output.Add(new ValueInfoProto { Name = name });
        }

        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(probe.ToByteArray(), options);
        using var run = new RunOptions();
        var min = names.ToDictionary(n => n, _ => float.PositiveInfinity);
        var max = names.ToDictionary(n => n, _ => float.NegativeInfinity);
        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            using var input = OrtValue.CreateTensorValueFromMemory(images.AsMemory(start * shape.Length, n * shape.Length).ToArray(), [n, shape.Channels, shape.Height, shape.Width]);
            using var results = session.Run(run, [OnnxNames.Input], [input], [.. names]);
            for (int i = 0; i < names.Count; i++)
            {
                var values = results[i].GetTensorDataAsSpan<float>();
                float lo = min[names[i]], hi = max[names[i]];
                foreach (float v in values)
                {
                    lo = Math.Min(lo, v);
                    hi = Math.Max(hi, v);
                }

                (min[names[i]], max[names[i]]) = (lo, hi);
            }
        }

        return names.ToDictionary(n => n, n => new TensorRange(min[n], max[n]));
    }
}
