using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Bench;

/// <summary>Where the time of one ONNX Runtime call goes, node by node of the graph ONNX Runtime actually runs.</summary>
internal static class ProfileBench
{
    public static int Run(string modelPath, int batch, int iterations, int threads)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"cnn-profile-{Environment.ProcessId}");
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableProfiling = true,
            ProfileOutputPathPrefix = prefix,
        };
        using var session = new InferenceSession(modelPath, options);
        var input = session.InputMetadata.Single();
        long[] shape = [batch, .. input.Value.Dimensions.Skip(1).Select(d => (long)d)];
        var random = new Random(1);
        var pixels = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)random.NextDouble()).ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, shape);
        using var runOptions = new RunOptions();
        // Every output, so a features file shows what exposing its maps adds.
        string[] outputs = [.. session.OutputMetadata.Keys];
        for (int i = 0; i < iterations; i++)
        {
            using var result = session.Run(runOptions, [input.Key], [value], outputs);
        }

        string file = session.EndProfiling();
        try
        {
            // Profiling adds its own overhead per node: the shares are the point, not the absolute microseconds.
            var nodes = new List<(string Name, string Op, List<double> Times)>();
            using var profile = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var e in profile.RootElement.EnumerateArray())
            {
                string name = e.GetProperty("name").GetString()!;
                if (e.GetProperty("cat").GetString() != "Node" || !name.EndsWith("_kernel_time", StringComparison.Ordinal))
                {
                    continue;
                }

                name = name[..^"_kernel_time".Length];
                string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                var node = nodes.FirstOrDefault(n => n.Name == name);
                if (node.Name == null)
                {
                    node = (name, op, []);
                    nodes.Add(node);
                }

                node.Times.Add(e.GetProperty("dur").GetDouble());
            }

            double total = nodes.Sum(n => n.Times.Average());
            Console.WriteLine($"{Path.GetFileName(modelPath)}, batch {batch}, {threads} intra-op thread(s), {iterations} profiled runs, ORT {typeof(InferenceSession).Assembly.GetName().Version}");
            Console.WriteLine($"{"node",-32} {"op",-16} {"mean µs",9} {"share",7}");
            foreach (var (name, op, times) in nodes)
            {
                Console.WriteLine($"{name,-32} {op,-16} {times.Average(),9:F1} {times.Average() / total,7:P1}");
            }

            Console.WriteLine($"{"sum of kernels",-49} {total,9:F1}");
            return 0;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
