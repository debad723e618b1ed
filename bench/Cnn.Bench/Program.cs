// ONNX prediction benchmarks.
//   files MODEL.onnx      raw ONNX Runtime: the plain export against the features export asked for the same outputs,
//                         and for all of them (an exposed tensor must leave ONNX Runtime's blocked NCHWc layout, which
//                         can add a reorder per output), and three ways of handing all outputs back as new arrays.
//   inference MODEL.onnx  Cnn.Inference: batch-1 latency, batch-64 throughput, all feature maps (into a reused buffer
//                         and into new arrays) against a plain prediction, and ML.NET's PredictionEngine on the model.
//   handwriting MODEL.onnx  accuracy, confident mistakes and calibration on data/handwriting-eval (unseen writers),
//                         each digit rendered in several styles of photo and read as `cnn predict` reads a file;
//                         then the t10k digits of --mnist DIR (default data/mnist-5k) raw and as photos (alone with
//                         --mnist-only: a run's validation split, written by Cnn.TrainBench validation, for model choices).
//   prepare MODEL.onnx IMAGE…  decoding and the card's preprocessing of each image file, and both with the prediction.
//   font-digits FONTS OUT  renders 0-9 of each handwriting font in FONTS as IDX files (data/handwriting-eval/build.sh).
//   profile MODEL.onnx    ONNX Runtime's own profile of MODEL.onnx asked for every output at --batch N (default 64):
//                         mean kernel time per node of the optimised graph, so layout reorders and slow layers show.
// Usage: dotnet run -c Release --project bench/Cnn.Bench -- files|inference|profile MODEL.onnx [--iterations N] [--threads N] [--batch N]
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

// sources [MODEL.onnx[,MODEL…]] [--sources DIR] [--split selection|training] [--mnist DIR] [--sheet PNG [--style-copies N]] [--mistakes PNG]:
//                         the outside handwriting collections (what was read, the writer-disjoint split; the sheet shows
//                         digits as drawn and prepared, or training's styled copies), a model's
//                         reading of the selection split, with --mistakes a sheet of the digits it misread, and with
//                         --mnist its reading of MNIST's validation split (split seed 1).
if (args.Length >= 1 && args[0] == "sources")
{
    string? model = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : null;
    return Cnn.Bench.SourcesBench.Run(model, OptionText("--sources") ?? Cnn.Train.Data.Handwriting.HandwritingSources.DefaultFolder, OptionText("--split") ?? "selection", OptionText("--sheet"), OptionText("--mnist"), OptionText("--mistakes"), int.Parse(OptionText("--style-copies") ?? "0", CultureInfo.InvariantCulture));
}

if (args.Length < 2 || args[0] is not ("files" or "inference" or "profile" or "handwriting" or "font-digits" or "prepare"))
{
    Console.Error.WriteLine("usage: Cnn.Bench files|inference|profile|handwriting MODEL.onnx [--iterations N] [--threads N] [--batch N] [--limit N] [--sheet PNG] [--data DIR] [--mnist DIR] [--mnist-only]");
    Console.Error.WriteLine("       Cnn.Bench prepare MODEL.onnx IMAGE... [--iterations N]");
    Console.Error.WriteLine("       Cnn.Bench font-digits FONT_DIR OUT_DIR");
    return 2;
}

if (args[0] == "font-digits")
{
    return Cnn.Bench.FontDigits.Write(args[1], args[2]);
}

// Every other command reads MODEL.onnx (handwriting: MODEL[,MODEL…] as one ensemble); a mistyped path is named, not thrown.
if (args[1].Split(',').FirstOrDefault(m => !File.Exists(m)) is { } missing)
{
    Console.Error.WriteLine($"{missing}: no such model file; expected a .onnx file written by `cnn export`");
    return 2;
}

if (args[0] == "handwriting")
{
    string root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../.."));
    string data = OptionText("--data") ?? Path.Combine(root, "data", "handwriting-eval");
    string mnist = OptionText("--mnist") ?? Path.Combine(root, "data", "mnist-5k");
    // The defaults are found from the build folder; a published copy of the bench has to be told where the data is.
    foreach (var (folder, option) in new[] { (data, "--data"), (mnist, "--mnist") })
    {
        if (!Directory.Exists(folder) && !(option == "--data" && args.Contains("--mnist-only")))
        {
            Console.Error.WriteLine($"{folder}: no such folder; expected the IDX files there (pass {option} DIR)");
            return 2;
        }
    }

    return Cnn.Bench.HandwritingBench.Run(args[1], data, mnist, Option("--limit", int.MaxValue), OptionText("--sheet"), args.Contains("--mnist-only"));
}

if (args[0] == "prepare")
{
    return Cnn.Bench.PrepareBench.Run(args[1], [.. args.Skip(2).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))], Option("--iterations", 20_000));
}

if (args[0] == "profile")
{
    return Cnn.Bench.ProfileBench.Run(args[1], Option("--batch", 64), Option("--iterations", 500), Option("--threads", 1));
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
var shape = Dims(inputMeta.Value);
var random = new Random(1);
var pixels = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)random.NextDouble()).ToArray();
string[] predictionOutputs = ["logits", "probabilities"];

Console.WriteLine($"batch 1, {threads} intra-op thread(s), {iterations:N0} runs each (taking turns in rounds of 1,000), outputs bound to reused buffers unless the case says otherwise, ORT {typeof(InferenceSession).Assembly.GetName().Version}");
Console.WriteLine($"{"case",-52} {"p50 µs",9} {"p99 µs",9} {"mean µs",9}");
using var input = OrtValue.CreateTensorValueFromMemory(pixels, shape);
using var runOptions = new RunOptions();
var cases = new[]
{
    Case("model.onnx → logits, probabilities", plain, predictionOutputs),
    Case("model.features.onnx → logits, probabilities", features, predictionOutputs),
    Case("model.features.onnx → every output", features, [.. features.OutputMetadata.Keys]),
    CopiedCase("  … then copied into new arrays", features, [.. features.OutputMetadata.Keys]),
    FreshCase("  … into new arrays bound per call", features, [.. features.OutputMetadata.Keys]),
    new BoundCase("  … into outputs ONNX Runtime allocates", () => features.Run(runOptions, [inputMeta.Key], [input], [.. features.OutputMetadata.Keys]).Dispose(), []),
};

var timings = Cnn.Bench.Timing.Interleaved(iterations, [.. cases.Select(c => c.Run)]);
var medians = cases.Zip(timings, Report).ToArray();
Console.WriteLine($"features file, prediction outputs only: {medians[1] / medians[0]:F2}× the plain file's p50");
Console.WriteLine($"features file, all outputs:             {medians[2] / medians[0]:F2}× the plain file's p50");
Console.WriteLine($"  copied into new arrays {medians[3] / medians[0]:F2}×, new arrays bound per call {medians[4] / medians[0]:F2}×, ORT-allocated {medians[5] / medians[0]:F2}×");
foreach (var c in cases)
{
    c.Dispose();
}

return 0;

BoundCase Case(string label, InferenceSession session, string[] outputs)
{
    var values = outputs.Select(name => NewBound(Dims(session.OutputMetadata[name]))).ToArray();
    string[] inputNames = [inputMeta.Key];
    OrtValue[] inputs = [input];
    return new BoundCase(label, () => session.Run(runOptions, inputNames, inputs, outputs, values), values);
}

// What handing maps back as new managed arrays costs, two ways: copying from buffers bound once, or binding new arrays.
BoundCase CopiedCase(string label, InferenceSession session, string[] outputs)
{
    var bound = Case(label, session, outputs);
    var buffers = bound.Outputs.Select(v => v.GetTensorDataAsSpan<float>().Length).ToArray();
    return bound with
    {
        Run = () =>
        {
            bound.Run();
            for (int k = 0; k < buffers.Length; k++)
            {
                var copy = new float[buffers[k]];
                bound.Outputs[k].GetTensorDataAsSpan<float>().CopyTo(copy);
            }
        },
    };
}

BoundCase FreshCase(string label, InferenceSession session, string[] outputs)
{
    var dims = outputs.Select(name => Dims(session.OutputMetadata[name])).ToArray();
    string[] inputNames = [inputMeta.Key];
    OrtValue[] inputs = [input];
    return new BoundCase(label, () =>
    {
        var values = dims.Select(NewBound).ToArray();
        session.Run(runOptions, inputNames, inputs, outputs, values);
        foreach (var value in values)
        {
            value.Dispose();
        }
    }, []);
}

double Report(BoundCase c, Cnn.Bench.Timing t)
{
    Console.WriteLine($"{c.Label,-52} {t.P50,9:F1} {t.P99,9:F1} {t.Mean,9:F1}");
    return t.P50;
}

// Batch 1 where the model says N.
static long[] Dims(NodeMetadata meta) => [.. meta.Dimensions.Select(d => (long)Math.Max(d, 1))];

static OrtValue NewBound(long[] dims) => OrtValue.CreateTensorValueFromMemory(new float[dims.Aggregate(1L, (a, b) => a * b)], dims);

string? OptionText(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record BoundCase(string Label, Action Run, OrtValue[] Outputs) : IDisposable
{
    public void Dispose()
    {
        foreach (var value in Outputs)
        {
            value.Dispose();
        }
    }
}
