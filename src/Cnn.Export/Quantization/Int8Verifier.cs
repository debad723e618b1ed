using Cnn.Contracts;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Cnn.Export.Quantization;

/// <summary>What an int8 file does against its run's float model on the test split.</summary>
/// <param name="File">The int8 file.</param>
/// <param name="Images">Test images read.</param>
/// <param name="Agreement">Share of images where both give the same label.</param>
/// <param name="FloatAccuracy">The float model's accuracy.</param>
/// <param name="Int8Accuracy">The int8 file's accuracy.</param>
/// <param name="MapErrors">Per feature map: its mean and largest absolute error, each as a share of the float map's largest magnitude.</param>
public sealed record Int8Report(string File, int Images, double Agreement, double FloatAccuracy, double Int8Accuracy, IReadOnlyDictionary<string, (double Mean, double Max)> MapErrors)
{
    /// <summary>The most accuracy the int8 file may lose, in points: the bound for the CIFAR net, and above the digit models' 0.2.</summary>
    public const double MaxAccuracyLoss = 0.5;

    /// <summary>
    /// The largest mean feature-map error allowed, as a share of the map's largest magnitude: about two 8-bit steps of
    /// a map's range (one step is 1/255 of it). The worst single element is reported, not bounded: one rounding that
    /// flips a ReLU compounds through the layers after it.
    /// </summary>
    public const double MaxMapError = 0.01;

    /// <summary>Accuracy change in points (negative: lost).</summary>
    public double AccuracyChange => 100 * (Int8Accuracy - FloatAccuracy);

    /// <summary>Within both bounds.</summary>
    public bool Passed => AccuracyChange >= -MaxAccuracyLoss && MapErrors.Values.All(e => e.Mean <= MaxMapError);
}

/// <summary>Compares an int8 file with its run's float model, or its runs' float ensemble (TorchSharp), or the float file it was quantized from, on a whole split.</summary>
public static class Int8Verifier
{
    private const int Batch = 256;

    /// <summary>Reads every test image through both; feature maps are compared when the file outputs them.</summary>
    public static Int8Report Verify(string path, RunModel run, Tensor testImages, Tensor testLabels) => Verify(path, [run], testImages, testLabels);

    /// <summary>
    /// Reads every image of the split through both: the int8 file and the float model of <paramref name="runs"/> (one
    /// run, or the runs of an ensemble in the order they were exported); feature maps are compared when the file
    /// outputs them.
    /// </summary>
    public static Int8Report Verify(string path, IReadOnlyList<RunModel> runs, Tensor testImages, Tensor testLabels) =>
        Verify(path, input => Cnn.Export.EnsembleExporter.ReferenceOf(runs, input), testImages, testLabels);

    /// <summary>
    /// Reads every image of the split through both: the int8 file and the float file it was quantized from
    /// (<paramref name="floatPath"/>, read by ONNX Runtime; its features sibling when the int8 file outputs maps), for a
    /// model whose run is gone. The float file must already have been verified against its run.
    /// </summary>
    public static Int8Report VerifyAgainstFile(string path, string floatPath, Tensor images, Tensor labels)
    {
        string reference = OnnxNames.IsFeaturesPath(path) ? OnnxNames.FeaturesPathFor(floatPath) : floatPath;
        using var session = OnnxFile.OpenSession(reference);
        var names = session.OutputMetadata.Keys.ToList();
        using var options = new RunOptions();
        return Verify(path, input =>
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input.contiguous().data<float>().ToArray(), input.shape);
            using var results = session.Run(options, [OnnxNames.Input], [value], names);
            return names.Select((name, i) => (name, tensor(results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape)))
                .ToDictionary(p => p.name, p => p.Item2);
        }, images, labels);
    }

    private static Int8Report Verify(string path, Func<Tensor, Dictionary<string, Tensor>> referenceOf, Tensor testImages, Tensor testLabels)
    {
        using var session = OnnxFile.OpenSession(path);
        var maps = session.OutputMetadata.Keys.Where(n => n is not OnnxNames.Logits and not OnnxNames.Probabilities).ToList();
        var errors = maps.ToDictionary(m => m, _ => 0.0);
        var sums = maps.ToDictionary(m => m, _ => 0.0);
        var elements = maps.ToDictionary(m => m, _ => 0L);
        var scales = maps.ToDictionary(m => m, _ => 0.0);
        var labels = testLabels.to_type(ScalarType.Int64).data<long>().ToArray();
        int agree = 0, rightFloat = 0, rightInt8 = 0, count = labels.Length;
        using var options = new RunOptions();
        for (int start = 0; start < count; start += Batch)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(Batch, count - start);
            var input = testImages[start..(start + n)].to_type(ScalarType.Float32) / 255f;
            Dictionary<string, Tensor> reference;
            using (no_grad())
            {
                reference = referenceOf(input);
            }

            using var value = OrtValue.CreateTensorValueFromMemory(input.contiguous().data<float>().ToArray(), input.shape);
            var names = maps.Append(OnnxNames.Probabilities).ToList();
            using var results = session.Run(options, [OnnxNames.Input], [value], names);
            var expected = reference[OnnxNames.Probabilities].argmax(1).data<long>().ToArray();
            var actual = ArgMax(results[names.Count - 1].GetTensorDataAsSpan<float>(), n);
            for (int i = 0; i < n; i++)
            {
                agree += expected[i] == actual[i] ? 1 : 0;
                rightFloat += expected[i] == labels[start + i] ? 1 : 0;
                rightInt8 += actual[i] == labels[start + i] ? 1 : 0;
            }

            for (int k = 0; k < maps.Count; k++)
            {
                var want = reference[maps[k]].contiguous().data<float>().ToArray();
                var got = results[k].GetTensorDataAsSpan<float>();
                for (int i = 0; i < want.Length; i++)
                {
                    errors[maps[k]] = Math.Max(errors[maps[k]], Math.Abs(got[i] - want[i]));
                    sums[maps[k]] += Math.Abs(got[i] - want[i]);
                    scales[maps[k]] = Math.Max(scales[maps[k]], Math.Abs(want[i]));
                }

                elements[maps[k]] += want.Length;
            }
        }

        return new Int8Report(Path.GetFullPath(path), count, (double)agree / count, (double)rightFloat / count, (double)rightInt8 / count,
            maps.ToDictionary(m => m, m => (sums[m] / Math.Max(1, elements[m]) / Math.Max(scales[m], double.Epsilon), errors[m] / Math.Max(scales[m], double.Epsilon))));
    }

    private static long[] ArgMax(ReadOnlySpan<float> probabilities, int n)
    {
        int classes = probabilities.Length / n;
        var best = new long[n];
        for (int i = 0; i < n; i++)
        {
            var row = probabilities.Slice(i * classes, classes);
            for (int c = 1; c < classes; c++)
            {
                best[i] = row[c] > row[(int)best[i]] ? c : best[i];
            }
        }

        return best;
    }
}
