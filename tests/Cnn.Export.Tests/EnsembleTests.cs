using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Inference;
using Cnn.Tests;
using static TorchSharp.torch;

namespace Cnn.Export.Tests;

/// <summary>Two LeNet runs that differ only in their seed, exported as one ensemble.</summary>
[Collection(TrainedRunsCollection.Name)]
public sealed class EnsembleTests(TrainedRuns trained) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private (Tensor Images, Tensor Labels) Test()
    {
        var (images, labels) = trained.Files.Read(train: false, 10);
        return (tensor(images.Pixels, ScalarType.Byte).view(images.Count, 1, 28, 28), tensor(labels.Labels, ScalarType.Byte).to_type(ScalarType.Int64));
    }

    private static float[] Floats(Tensor images) => (images.to_type(ScalarType.Float32) / 255f).contiguous().data<float>().ToArray();

    [Fact]
    public void The_ensemble_averages_its_members_and_shows_the_first_ones_maps()
    {
        var (images, labels) = Test();
        using var a = new RunModel(trained.Runs[1.0]);
        using var b = new RunModel(trained.SecondSeed);
        var result = EnsembleExporter.Export([a, b], _dir.Combine("ensemble.onnx"), images, labels);

        // TorchSharp against ONNX Runtime, every output of both files.
        foreach (var path in new[] { result.ModelPath, result.FeaturesPath })
        {
            var report = OnnxVerifier.Verify(path, [a, b], images);
            Assert.True(report.Passed, string.Join("; ", report.Outputs));
        }

        // Through Cnn.Inference, against each member exported on its own: the mean of their probabilities, the first one's maps and kernels.
        var singleA = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("a.onnx"));
        var singleB = OnnxExporter.ExportRun(trained.SecondSeed, _dir.Combine("b.onnx"));
        using var ensemble = CnnModel.Load(result.ModelPath);
        using var first = CnnModel.Load(singleA.ModelPath);
        using var second = CnnModel.Load(singleB.ModelPath);
        var pixels = Floats(images);
        int n = (int)images.shape[0];
        var mean = ensemble.PredictBatch(pixels, n);
        var pa = first.PredictBatch(pixels, n);
        var pb = second.PredictBatch(pixels, n);
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < 10; c++)
            {
                Assert.Equal((pa[i].Probabilities[c] + pb[i].Probabilities[c]) / 2, mean[i].Probabilities[c], 1e-5f);
            }
        }

        var image = pixels.AsSpan(0, 784).ToArray();
        var mapsEnsemble = ensemble.GetFeatureMaps(image);
        var mapsFirst = first.GetFeatureMaps(image);
        // Equal within the verifier's tolerance: the fused graph runs the first net's convs as part of a grouped conv.
        Assert.All(mapsFirst.Maps, m => Assert.All(m.Value.Values.Zip(mapsEnsemble.Maps[m.Key].Values), v =>
            Assert.True(Math.Abs(v.First - v.Second) <= OnnxVerifier.AbsTolerance || Math.Abs(v.First - v.Second) <= OnnxVerifier.RelTolerance * Math.Abs(v.First), $"{m.Key}: {v.First} against {v.Second}")));
        Assert.Equal(first.GetKernels("conv2").Values, ensemble.GetKernels("conv2").Values);

        // The card: its members, their temperatures, and the ensemble's own accuracy on the test split.
        var card = ensemble.Card;
        Assert.Equal([1L, 2L], card.Members.Select(m => m.Seed));
        Assert.Equal([a.Temperature, b.Temperature], card.Members.Select(m => m.Temperature));
        Assert.Equal([a.Summary!.TestAccuracy, b.Summary!.TestAccuracy], card.Members.Select(m => m.TestAccuracy));
        Assert.Equal(1, card.Temperature);
        double accuracy = mean.Select((p, i) => p.Index == labels[i].item<long>() ? 1.0 : 0.0).Average();
        Assert.Equal(accuracy, card.TestAccuracy!.Value, 1e-9);
        Assert.True(card.SharesWeightsWith(CnnModel.Load(result.FeaturesPath).Card));
        Assert.Contains(OnnxFile.Read(result.ModelPath).Graph.Initializer, t => t.Name == $"{OnnxNames.MemberPrefix(2)}conv1.weight");
    }

    [Fact]
    public void Runs_that_cannot_be_averaged_are_refused_by_name()
    {
        var (images, labels) = Test();
        using var a = new RunModel(trained.Runs[1.0]);
        using var again = new RunModel(trained.Runs[1.0]);
        using var wide = new RunModel(trained.Runs[2.0]);
        string path = _dir.Combine("bad.onnx");

        var architecture = Assert.Throws<ArgumentException>(() => EnsembleExporter.Export([a, wide], path, images, labels));
        Assert.StartsWith($"{wide.Path}: is lenet5 {{", architecture.Message);
        Assert.EndsWith("an ensemble's nets must share one architecture", architecture.Message);

        var same = Assert.Throws<ArgumentException>(() => EnsembleExporter.Export([a, again], path, images, labels));
        Assert.Equal($"{again.Path} and {a.Path} hold the same weights; an ensemble needs nets trained with different seeds", same.Message);

        var one = Assert.Throws<ArgumentException>(() => EnsembleExporter.Export([a], path, images, labels));
        Assert.Equal("an ensemble needs at least 2 runs; got 1", one.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_card_with_one_member_or_an_ensemble_temperature_is_inconsistent()
    {
        var (images, labels) = Test();
        using var a = new RunModel(trained.Runs[1.0]);
        using var b = new RunModel(trained.SecondSeed);
        var card = EnsembleExporter.Export([a, b], _dir.Combine("e.onnx"), images, labels).Card;
        var one = Assert.Throws<ModelCardException>(() => (card with { Members = [card.Members[0]] }).Validated("x"));
        Assert.Equal("x: the model card is inconsistent: members lists 1 net; expected none (a single net) or at least 2 (an ensemble)", one.Message);
        var hot = Assert.Throws<ModelCardException>(() => (card with { Temperature = 2 }).Validated("x"));
        Assert.Equal("x: the model card is inconsistent: temperature is 2 for an ensemble; expected 1 (each member applies its own)", hot.Message);
        Assert.Equal(card.Members, ModelCard.FromJson(card.ToJson(), "x").Members);
        Assert.DoesNotContain("\"members\"", (card with { Members = [] }).ToJson(), StringComparison.Ordinal);
    }
}
