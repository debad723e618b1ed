using Cnn.Contracts;
using Cnn.Inference;
using Cnn.Tests;
using Cnn.Train.Recipes;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Export.Tests;

/// <summary>The CIFAR net: BatchNormalization and MaxPool in the graph, verified against TorchSharp.</summary>
public sealed class CifarExportTests : IDisposable
{
    private static readonly string[] Features = ["conv1", "conv2", "pool1", "conv3", "conv4", "pool2"];
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RunConfig ConfigFor(CifarCoarseNetConfig model) => new(
        model,
        Recipes.Cifar.Defaults(Recipes.Cifar.DefaultDataset),
        new DataInfo(Cifar100Dataset.DatasetName, "generated", 10, 2, 2, 3, 32, 32, Cifar100.CoarseClasses, CifarLabels.Coarse),
        new Normalization([0.507, 0.487, 0.441], [0.267, 0.256, 0.276]),
        VersionInfo.Current());

    private Tensor Images()
    {
        var bytes = SyntheticCifar.Records(64, new Random(2));
        var (images, _) = Cifar100.Parse(bytes, "generated", CifarLabels.Coarse);
        return tensor(images.Pixels, ScalarType.Byte).view(64, 3, 32, 32);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void Random_weights_and_batch_statistics_match_torchsharp_on_every_output(double width)
    {
        torch.manual_seed(9);
        var config = ConfigFor(new CifarCoarseNetConfig { Width = width });
        using var model = config.Model.Build();
        using (no_grad())
        {
            // Non-trivial running statistics, so BatchNormalization's inference form is really exercised.
            foreach (var (name, buffer) in model.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal))
                {
                    buffer.copy_(randn_like(buffer) * 0.1);
                }
                else if (name.EndsWith("running_var", StringComparison.Ordinal))
                {
                    buffer.copy_(rand_like(buffer) + 0.5);
                }
            }
        }

        model.eval();
        var result = OnnxExporter.Export(model, config, null, _dir.Combine($"cifar-w{width}.onnx"));
        var plan = ExportPlan.Create(model, [3, 32, 32]);
        var plain = OnnxVerifier.Verify(result.ModelPath, plan, config.Normalization, Images());
        var features = OnnxVerifier.Verify(result.FeaturesPath, plan, config.Normalization, Images());

        Assert.True(plain.Passed, string.Join("; ", plain.Outputs));
        Assert.True(features.Passed, string.Join("; ", features.Outputs));
        Assert.Equal([.. Features, "logits", "probabilities"], features.Outputs.Select(o => o.Name));
        int c1 = (int)Math.Round(32 * width), c2 = (int)Math.Round(64 * width);
        Assert.Equal([c1, 32, 32], features.Outputs[0].Shape.Select(d => (int)d));
        Assert.Equal([c1, 16, 16], features.Outputs[2].Shape.Select(d => (int)d));
        Assert.Equal([c2, 8, 8], features.Outputs[5].Shape.Select(d => (int)d));

        var graph = OnnxFile.Read(result.ModelPath).Graph;
        Assert.Equal(4, graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(2, graph.Node.Count(n => n.OpType == "MaxPool"));
        Assert.DoesNotContain(graph.Node, n => n.OpType == "Dropout");
    }

    [Fact]
    public async Task A_trained_run_exports_verifies_and_carries_the_coarse_labels()
    {
        string data = SyntheticCifar.Write(_dir.Combine("data"), 200, 64);
        var recipe = Recipes.Cifar;
        var options = recipe.Defaults(recipe.DefaultDataset) with { Epochs = 1, BatchSize = 32, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Patience = 0 };
        var run = new RunFolder(_dir.Combine("run"));
        using (var prepared = await recipe.PrepareAsync(new RunRequest(recipe.DefaultDataset, options, Data: new DataRequest(data)), downloader: null))
        {
            new Trainer(run, prepared.Config, prepared.Data).Fit(resume: false);
        }

        var result = OnnxExporter.ExportRun(run, _dir.Combine("cifar.onnx"));
        using var reference = new RunModel(run);
        var report = OnnxVerifier.Verify(result.FeaturesPath, [reference], Images());
        Assert.True(report.Passed, string.Join("; ", report.Outputs));

        using var session = new InferenceSession(result.ModelPath);
        Assert.Equal([-1, 3, 32, 32], session.InputMetadata["image"].Dimensions);
        using var model = CnnModel.Load(result.ModelPath);
        Assert.Equal(Cifar100.CoarseClasses, model.Labels);
        Assert.Equal("cifar100", model.Card.Dataset);
        Assert.Equal(PreprocessingKind.Color, model.Card.Preprocessing);
        Assert.Equal(Features, model.FeatureNames);

        // In int8 the batch norms are folded into the convolutions, all four of which run as integer kernels.
        using var split = await Datasets.ReloadAsync(reference.Config);
        float[] images = split.Train.Images.to_type(ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        var int8 = Cnn.Export.Quantization.Int8Exporter.Export(reference.Model, reference.Config, reference.Summary, _dir.Combine("cifar.int8.onnx"), images, (int)split.Train.Count, "training");
        var graph = OnnxFile.Read(int8.ModelPath).Graph;
        Assert.DoesNotContain(graph.Node, n => n.OpType == "BatchNormalization");
        var quantized = Cnn.Export.Quantization.Int8Verifier.Verify(int8.FeaturesPath, reference, split.Test.Images, split.Test.Labels);
        Assert.True(quantized.Agreement >= 0.9 && quantized.Passed, $"agreement {quantized.Agreement}, {quantized.AccuracyChange} points, maps {string.Join(", ", quantized.MapErrors.Select(m => $"{m.Key} {m.Value.Mean:P2}"))}");
    }

    [Fact]
    public void Verifying_a_cifar_file_against_a_lenet_run_names_the_mismatch()
    {
        torch.manual_seed(2);
        var config = ConfigFor(new CifarCoarseNetConfig());
        using var cifar = config.Model.Build();
        var result = OnnxExporter.Export(cifar, config, null, _dir.Combine("cifar.onnx"));
        using var lenet = new LeNet5Config().Build();
        var plan = ExportPlan.Create(lenet, [1, 28, 28]);
        var digits = zeros([8, 1, 28, 28], ScalarType.Byte);

        var e = Assert.Throws<InvalidDataException>(() => OnnxVerifier.Verify(result.ModelPath, plan, new Normalization([0.1], [0.3]), digits));
        Assert.Equal($"{result.ModelPath}: takes image [-1, 3, 32, 32]; the run's images are [N, 1, 28, 28], so the file was not exported from this run", e.Message);
    }
}
