// ONNX prediction benchmarks.
//   files MODEL.onnx      raw ONNX Runtime: the plain export against the features export asked for the same outputs,
//                         and for all of them (exposing intermediate tensors can stop Conv+ReLU fusion).
//   inference MODEL.onnx  Cnn.Inference: batch-1 latency, batch-64 throughput, all feature maps against a plain
//                         prediction, and ML.NET's PredictionEngine on the same model.
// Usage: dotnet run -c Release --project bench/Cnn.Bench -- files|inference MODEL.onnx [--iterations N] [--threads N]
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

if (args.Length < 2 || args[0] is not ("files" or "inference"))
{
    Console.Error.WriteLine("usage: Cnn.Bench files|inference MODEL.onnx [--iterations N] [--threads N]");
    return 2;
}

if (args[0] == "inference")
{
    return Cnn.Bench.InferenceBench.Run(args[1], Option("--iterations", 20_000), Option("--threads", 1));
}

string plainPath = args[1];
string featuresPath = Path.ChangeExtension(plainPath, null) + ".features.onnx";
int iterations = Option("--iterations", 20_000);
int threads = Option("--threads", 1);

using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
using var plain = new InferenceSession(plainPath, options);
using var features = new InferenceSession(featuresPath, options);
var inputMeta = plain.InputMetadata.Single();
var shape = inputMeta.Value.Dimensions.Select(d => (long)Math.Max(d, 1)).ToArray();
var random = new Random(1);
var pixels = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)random.NextDouble()).ToArray();
string[] predictionOutputs = ["logits", "probabilities"];

Console.WriteLine($"batch 1, {threads} intra-op thread(s), {iterations:N0} iterations each, ORT {typeof(InferenceSession).Assembly.GetName().Version}");
Console.WriteLine($"{"case",-52} {"p50 µs",9} {"p99 µs",9} {"mean µs",9}");
var baseline = Measure("model.onnx → logits, probabilities", plain, predictionOutputs);
var sameOutputs = Measure("model.features.onnx → logits, probabilities", features, predictionOutputs);
var all = Measure("model.features.onnx → every output", features, features.OutputMetadata.Keys.ToArray());
Console.WriteLine($"features file, prediction outputs only: {sameOutputs.Median / baseline.Median:F2}× the plain file's p50");
Console.WriteLine($"features file, all outputs:             {all.Median / baseline.Median:F2}× the plain file's p50");
return 0;

(double Median, double P99) Measure(string label, InferenceSession session, string[] outputs)
{
    using var input = OrtValue.CreateTensorValueFromMemory(pixels, shape);
    using var runOptions = new RunOptions();
    string[] inputNames = [inputMeta.Key];
    OrtValue[] inputs = [input];
    for (int i = 0; i < 500; i++)
    {
        using var warm = session.Run(runOptions, inputNames, inputs, outputs);
    }

    var times = new double[iterations];
    for (int i = 0; i < iterations; i++)
    {
        long start = Stopwatch.GetTimestamp();
        using var result = session.Run(runOptions, inputNames, inputs, outputs);
        times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    Array.Sort(times);
    double p50 = times[iterations / 2];
    double p99 = times[(int)(iterations * 0.99)];
    Console.WriteLine($"{label,-52} {p50,9:F1} {p99,9:F1} {times.Average(),9:F1}");
    return (p50, p99);
}

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
