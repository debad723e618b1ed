using Cnn.Contracts;
using Cnn.Train.Data;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>How one output of the ONNX file compared with TorchSharp over every case run.</summary>
public sealed record OutputComparison(string Name, IReadOnlyList<long> Shape, double MaxAbsError, double MaxRelError, long Violations, long Elements)
{
    public bool Passed => Violations == 0;
}

/// <summary>The verdict of <c>OnnxVerifier.Verify</c>.</summary>
public sealed record VerifyReport(string File, IReadOnlyList<string> Cases, IReadOnlyList<OutputComparison> Outputs)
{
    public bool Passed => Outputs.All(o => o.Passed);
}

/// <summary>
/// Runs the same inputs through TorchSharp (the module tree, via <see cref="ExportPlan.Reference"/>) and ONNX Runtime
/// (the file) and compares every output of the file element by element. An element passes when its absolute error
/// is ≤ <see cref="AbsTolerance"/> or its relative error is ≤ <see cref="RelTolerance"/> (fp32 on both sides).
/// </summary>
public static class OnnxVerifier
{
    public const double AbsTolerance = 1e-5;
    public const double RelTolerance = 1e-4;
    public static readonly IReadOnlyList<int> BatchSizes = [1, 7, 64];

    /// <summary>
    /// Compares on the first images of <paramref name="realImages"/> (uint8 or float in [0, 1], [N, C, H, W]) and on
    /// seeded uniform noise, at each of <see cref="BatchSizes"/>; the reference's probabilities are taken at the run's
    /// <paramref name="temperature"/>.
    /// </summary>
    public static VerifyReport Verify(string onnxPath, ExportPlan plan, Normalization normalization, Tensor realImages, long seed = 0, double temperature = 1) =>
        Verify(onnxPath, plan, input => plan.Reference(normalization.Apply(input), temperature), realImages, seed);

    /// <summary>
    /// Verifies a file exported from <paramref name="runs"/>: one run's export, or the ensemble of several (the
    /// reference is then <see cref="EnsembleExporter.Reference"/>).
    /// </summary>
    public static VerifyReport Verify(string onnxPath, IReadOnlyList<RunModel> runs, Tensor realImages, long seed = 0) =>
        Verify(onnxPath, runs[0].Plan, input => EnsembleExporter.ReferenceOf(runs, input), realImages, seed);

    private static VerifyReport Verify(string onnxPath, ExportPlan plan, Func<Tensor, Dictionary<string, Tensor>> reference, Tensor realImages, long seed)
    {
        if (!File.Exists(onnxPath))
        {
            throw new FileNotFoundException($"{onnxPath} not found", onnxPath);
        }

        if (Directory.Exists(onnxPath))
        {
            throw new InvalidDataException($"{onnxPath}: is a folder; expected an .onnx file");
        }

        using var session = OnnxFile.OpenSession(onnxPath);
        CheckInput(session, onnxPath, realImages.shape.Skip(1).ToArray());
        var outputNames = session.OutputMetadata.Keys.ToList();
        var known = plan.Features.Select(f => f.Name).Append(OnnxNames.Logits).Append(OnnxNames.Probabilities).ToHashSet();
        var unknown = outputNames.Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"{onnxPath}: outputs {string.Join(", ", unknown)} are not produced by this run's model (expected some of {string.Join(", ", known)})");
        }

        var stats = outputNames.ToDictionary(n => n, _ => new Stats());
        var cases = new List<string>();
        using var generator = new Generator((ulong)seed);
        foreach (int batch in BatchSizes)
        {
            using var scope = NewDisposeScope();
            var real = realImages[..(int)Math.Min(batch, realImages.shape[0])];
            real = real.dtype == ScalarType.Byte ? real.to_type(ScalarType.Float32) / 255f : real.to_type(ScalarType.Float32);
            var noise = rand([batch, .. realImages.shape.Skip(1)], generator: generator);
            foreach (var (label, input) in new[] { ("test images", real), ("uniform noise", noise) })
            {
                cases.Add($"{label} ×{input.shape[0]}");
                Compare(session, reference, input, outputNames, stats);
            }
        }

        var comparisons = outputNames.Select(n => new OutputComparison(n, stats[n].Shape, stats[n].MaxAbs, stats[n].MaxRel, stats[n].Violations, stats[n].Elements)).ToList();
        return new VerifyReport(Path.GetFullPath(onnxPath), cases, comparisons);
    }

    /// <summary>A file for other images (a CIFAR export against a LeNet run) is named, before ONNX Runtime would fail on it.</summary>
    private static void CheckInput(InferenceSession session, string path, long[] imageShape)
    {
        var inputs = session.InputMetadata;
        if (!inputs.TryGetValue(OnnxNames.Input, out var input) || !input.Dimensions.Skip(1).Select(d => (long)d).SequenceEqual(imageShape))
        {
            throw new InvalidDataException(
                $"{path}: takes {string.Join(", ", inputs.Select(i => $"{i.Key} [{string.Join(", ", i.Value.Dimensions)}]"))}; the run's images are [N, {string.Join(", ", imageShape)}], so the file was not exported from this run");
        }
    }

    private static void Compare(InferenceSession session, Func<Tensor, Dictionary<string, Tensor>> run, Tensor input, List<string> names, Dictionary<string, Stats> stats)
    {
        Dictionary<string, Tensor> reference;
        using (no_grad())
        {
            reference = run(input);
        }

        var data = input.contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var options = new RunOptions();
        using var results = session.Run(options, [OnnxNames.Input], [value], names);
        for (int k = 0; k < names.Count; k++)
        {
            var actual = results[k].GetTensorDataAsSpan<float>();
            var shape = results[k].GetTensorTypeAndShape().Shape;
            var expectedTensor = reference[names[k]].contiguous();
            if (!shape.SequenceEqual(expectedTensor.shape))
            {
                throw new InvalidDataException(
                    $"output '{names[k]}': ONNX Runtime gave shape [{string.Join(", ", shape)}], TorchSharp [{string.Join(", ", expectedTensor.shape)}]");
            }

            var expected = expectedTensor.data<float>().ToArray();
            stats[names[k]].Add(expected, actual, shape.Skip(1).ToArray());
        }
    }

    private sealed class Stats
    {
        public double MaxAbs { get; private set; }
        public double MaxRel { get; private set; }
        public long Violations { get; private set; }
        public long Elements { get; private set; }
        public IReadOnlyList<long> Shape { get; private set; } = [];

        public void Add(float[] expected, ReadOnlySpan<float> actual, long[] shape)
        {
            Shape = shape;
            for (int i = 0; i < expected.Length; i++)
            {
                double diff = Math.Abs((double)actual[i] - expected[i]);
                double magnitude = Math.Abs((double)expected[i]);
                double rel = magnitude > 0 ? diff / magnitude : (diff == 0 ? 0 : double.PositiveInfinity);
                MaxAbs = Math.Max(MaxAbs, double.IsNaN(diff) ? double.PositiveInfinity : diff);
                if (magnitude > AbsTolerance)
                {
                    MaxRel = Math.Max(MaxRel, rel);
                }

                if (!(diff <= AbsTolerance || rel <= RelTolerance))
                {
                    Violations++;
                }
            }

            Elements += expected.Length;
        }
    }
}
