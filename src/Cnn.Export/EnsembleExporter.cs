using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Train.Training;
using Google.Protobuf;
using static Cnn.Export.OnnxProto;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>
/// Several runs of one architecture, trained with different seeds, written as one ONNX pair whose probabilities are
/// the mean of theirs (each at its own temperature): an ensemble, which is surer where its nets agree and less sure
/// where they do not. The graph runs the nets side by side (<see cref="EnsembleGraph"/>); the first run's weights keep
/// their plain names, so its feature maps and kernels are the pair's; the others' are prefixed <c>member2.</c>,
/// <c>member3.</c>, …
/// </summary>
public static class EnsembleExporter
{
    /// <summary>
    /// Checks that the runs can be averaged, measures the ensemble's accuracy on <paramref name="testImages"/> (uint8
    /// [N, C, H, W], the runs' common test split, prepared as they were trained) and writes the pair.
    /// </summary>
    public static ExportResult Export(IReadOnlyList<RunModel> members, string modelPath, Tensor testImages, Tensor testLabels, ExportOptions? options = null)
    {
        options = (options ?? new ExportOptions()).Validated();
        var (plain, features, card) = FloatGraphs(members, testImages, testLabels, options);
        return OnnxExporter.WritePair(modelPath, plain, features, members[0].Plan.Features, card, members[0].Config, options);
    }

    /// <summary>
    /// Checks the runs (<see cref="Check"/>) and builds the ensemble's two float graphs and its card, with the
    /// ensemble's accuracy on the test split: what <see cref="Export"/> writes, and what the int8 export quantizes.
    /// </summary>
    internal static (GraphProto Plain, GraphProto Features, ModelCard Card) FloatGraphs(IReadOnlyList<RunModel> members, Tensor testImages, Tensor testLabels, ExportOptions options)
    {
        Check(members);
        var first = members[0];
        var plain = EnsembleGraph.Build(members, withFeatures: false);
        var features = EnsembleGraph.Build(members, withFeatures: true);
        double accuracy = TestAccuracy(members, testImages, testLabels);
        var card = ModelCards.Create(first.Plan, first.Config, first.Summary, options, ModelCards.WeightsSha256(plain.Initializer)) with
        {
            Temperature = 1,
            TestAccuracy = accuracy,
            Members = [.. members.Select(m => new EnsembleMember(m.Config.Training.Seed, m.Temperature, m.Summary?.TestAccuracy))],
        };
        return (plain, features, card.Validated("export"));
    }

    /// <summary>The TorchSharp reference of one net or of an ensemble of them (<see cref="Reference"/>), by the number of runs.</summary>
    public static Dictionary<string, Tensor> ReferenceOf(IReadOnlyList<RunModel> runs, Tensor images) =>
        runs.Count == 1 ? runs[0].Plan.Reference(runs[0].Config.Normalization.Apply(images), runs[0].Temperature) : Reference(runs, images);

    /// <summary>
    /// The TorchSharp reference of the ensemble for a batch of raw images in [0, 1]: the first member's feature maps,
    /// the mean of the members' probabilities, and their log as the logits.
    /// </summary>
    public static Dictionary<string, Tensor> Reference(IReadOnlyList<RunModel> members, Tensor images)
    {
        var result = members[0].Plan.Reference(members[0].Config.Normalization.Apply(images), members[0].Temperature);
        var sum = result[OnnxNames.Probabilities];
        foreach (var m in members.Skip(1))
        {
            sum = sum + m.Plan.Reference(m.Config.Normalization.Apply(images), m.Temperature)[OnnxNames.Probabilities];
        }

        var mean = sum / members.Count;
        result[OnnxNames.Probabilities] = mean;
        result[OnnxNames.Logits] = mean.log();
        return result;
    }

    /// <summary>Refuses runs that cannot be one ensemble, naming them: other architectures, data, deskewing or the same weights.</summary>
    internal static void Check(IReadOnlyList<RunModel> members)
    {
        if (members.Count < 2)
        {
            throw new ArgumentException($"an ensemble needs at least 2 runs; got {members.Count}");
        }

        var first = members[0];
        foreach (var m in members.Skip(1))
        {
            var (a, b) = (first.Config, m.Config);
            if (!a.Model.Equals(b.Model))
            {
                throw new ArgumentException($"{m.Path}: is {Describe(b)}; {first.Path} is {Describe(a)}; an ensemble's nets must share one architecture");
            }

            if (a.Data.Dataset != b.Data.Dataset || !a.Data.ClassNames.SequenceEqual(b.Data.ClassNames) || a.Training.Deskew != b.Training.Deskew)
            {
                throw new ArgumentException(
                    $"{m.Path}: was trained on {b.Data.Dataset}{(b.Training.Deskew ? " (deskewed)" : "")}; {first.Path} on {a.Data.Dataset}{(a.Training.Deskew ? " (deskewed)" : "")}; an ensemble's nets must read the same images the same way");
            }
        }

        var digests = members.Select(m => ModelCards.WeightsSha256(OnnxExporter.BuildGraph(m.Plan, m.Config, 1, withFeatures: false).Initializer)).ToList();
        for (int i = 0; i < members.Count; i++)
        {
            int same = digests.IndexOf(digests[i]);
            if (same != i)
            {
                throw new ArgumentException($"{members[i].Path} and {members[same].Path} hold the same weights; an ensemble needs nets trained with different seeds");
            }
        }
    }

    private static string Describe(RunConfig config) => $"{config.Model.Name} {System.Text.Json.JsonSerializer.Serialize(config.Model, config.Model.GetType(), RunFolder.Json).ReplaceLineEndings(" ")}";

    private static double TestAccuracy(IReadOnlyList<RunModel> members, Tensor images, Tensor labels)
    {
        const int batch = 500;
        long correct = 0;
        int n = (int)images.shape[0];
        using var noGrad = no_grad();
        for (int start = 0; start < n; start += batch)
        {
            using var scope = NewDisposeScope();
            int end = Math.Min(n, start + batch);
            var x = images[start..end].to_type(ScalarType.Float32) / 255f;
            var predicted = Reference(members, x)[OnnxNames.Probabilities].argmax(1);
            correct += predicted.eq(labels[start..end]).sum().item<long>();
        }

        return (double)correct / n;
    }
}
