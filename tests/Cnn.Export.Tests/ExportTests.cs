using System.Security.Cryptography;
using Cnn.Export.Onnx;
using Cnn.Contracts;
using Cnn.Inference;
using Cnn.Tests;
using Cnn.Train.Recipes;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Export.Tests;

/// <summary>A LeNet-5 run trained for two epochs on generated digits, shared by the tests of trained weights.</summary>
public sealed class TrainedRuns : IDisposable
{
    private readonly TempFolder _dir = new();

    public TrainedRuns()
    {
        string data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 300, testCount: 80);
        Files = MnistFiles.InFolder(data);
        var recipe = Recipes.LeNet;
        foreach (var (width, seed) in new[] { (1.0, 1L), (2.0, 1L), (1.0, 2L) })
        {
            // Split seed 1 throughout: the second seed's run keeps the first's validation split, as an ensemble's nets should.
            var options = new TrainOptions { Epochs = 2, Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Cpu, Patience = 0, BatchSize = 32, ValidationFraction = 0.2, Seed = seed, SplitSeed = 1 };
            using var prepared = recipe.PrepareAsync(new RunRequest(recipe.DefaultDataset, options, width, new DataRequest(data)), downloader: null).GetAwaiter().GetResult();
            var run = new RunFolder(_dir.Combine($"run-w{width}-s{seed}"));
            new Trainer(run, prepared.Config, prepared.Data).Fit(resume: false);
            if (seed == 1)
            {
                Runs[width] = run;
            }
            else
            {
                SecondSeed = run;
            }
        }
    }

    public MnistFiles Files { get; }

    /// <summary>Seed 1 at widths 1 and 2.</summary>
    public Dictionary<double, RunFolder> Runs { get; } = [];

    /// <summary>Width 1 with seed 2 (split seed 1): with Runs[1.0], an ensemble's second net.</summary>
    public RunFolder SecondSeed { get; private set; } = null!;

    public string Temp(string name) => _dir.Combine(name);

    public void Dispose() => _dir.Dispose();
}

/// <summary>The test classes that share one <see cref="TrainedRuns"/>, trained once.</summary>
[CollectionDefinition(Name)]
public sealed class TrainedRunsCollection : ICollectionFixture<TrainedRuns>
{
    public const string Name = "trained runs";
}

[Collection(TrainedRunsCollection.Name)]
public sealed class ExportTests(TrainedRuns trained) : IDisposable
{
    private static readonly string[] LeNetFeatures = ["conv1", "pool1", "conv2", "pool2"];
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RunConfig ConfigFor(LeNet5Config model) => new(
        model,
        new TrainOptions(),
        new DataInfo("digits", "generated", 10, 2, 2, 1, 28, 28, DatasetCatalog.DigitClasses),
        new Normalization([0.1307], [0.3081]),
        VersionInfo.Current());

    private static Tensor TestImages(TrainedRuns trained)
    {
        var (images, _) = trained.Files.Read(train: false, 10);
        return tensor(images.Pixels, ScalarType.Byte).view(images.Count, 1, 28, 28);
    }

    private static void AssertVerified(ExportResult result, ExportPlan plan, Normalization normalization, Tensor images, double temperature = 1)
    {
        var plain = OnnxVerifier.Verify(result.ModelPath, plan, normalization, images, temperature: temperature);
        var features = OnnxVerifier.Verify(result.FeaturesPath, plan, normalization, images, temperature: temperature);
        Assert.True(plain.Passed, string.Join("; ", plain.Outputs));
        Assert.True(features.Passed, string.Join("; ", features.Outputs));
        Assert.Equal(["logits", "probabilities"], plain.Outputs.Select(o => o.Name));
        Assert.Equal([.. LeNetFeatures, "logits", "probabilities"], features.Outputs.Select(o => o.Name));
        Assert.Equal(6, features.Cases.Count);
        Assert.All(features.Outputs, o => Assert.True(o.Elements > 0));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Random_weights_match_torchsharp_on_every_output(double width)
    {
        torch.manual_seed(3);
        var config = ConfigFor(new LeNet5Config { Width = width });
        using var model = config.Model.Build();
        var result = OnnxExporter.Export(model, config, null, _dir.Combine("m.onnx"));
        AssertVerified(result, ExportPlan.Create(model, [1, 28, 28]), config.Normalization, TestImages(trained));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Trained_weights_match_torchsharp_on_every_output(double width)
    {
        var run = trained.Runs[width];
        var result = OnnxExporter.ExportRun(run, _dir.Combine("trained.onnx"));
        using var reference = new RunModel(run);
        AssertVerified(result, reference.Plan, reference.Config.Normalization, TestImages(trained), reference.Temperature);
    }

    [Fact]
    public void Onnx_runtime_sees_the_names_types_and_shapes_with_a_symbolic_batch()
    {
        var result = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("m.onnx"));
        using var session = new InferenceSession(result.FeaturesPath);

        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("image", input.Key);
        Assert.Equal(typeof(float), input.Value.ElementType);
        Assert.Equal([-1, 1, 28, 28], input.Value.Dimensions);
        Assert.Equal("N", input.Value.SymbolicDimensions[0]);

        var expected = new Dictionary<string, int[]>
        {
            ["conv1"] = [-1, 6, 28, 28],
            ["pool1"] = [-1, 6, 14, 14],
            ["conv2"] = [-1, 16, 10, 10],
            ["pool2"] = [-1, 16, 5, 5],
            ["logits"] = [-1, 10],
            ["probabilities"] = [-1, 10],
        };
        Assert.Equal(expected.Keys, session.OutputMetadata.Keys);
        foreach (var (name, meta) in session.OutputMetadata)
        {
            Assert.Equal(typeof(float), meta.ElementType);
            Assert.Equal(expected[name], meta.Dimensions);
            Assert.Equal("N", meta.SymbolicDimensions[0]);
        }

        using var plain = new InferenceSession(result.ModelPath);
        Assert.Equal(["logits", "probabilities"], plain.OutputMetadata.Keys);
    }

    [Fact]
    public void The_model_card_round_trips_from_export_through_inference()
    {
        var run = trained.Runs[1.0];
        var result = OnnxExporter.ExportRun(run, _dir.Combine("m.onnx"));
        var config = run.ReadConfig();
        using var plain = CnnModel.Load(result.ModelPath);
        using var features = CnnModel.Load(result.FeaturesPath);
        var card = plain.Card;

        // Every field, as the exporter wrote it, comes back through Cnn.Inference.
        Assert.Equal(result.Card.ToJson(), card.ToJson());
        Assert.Equal((result.Card with { HasFeatureOutputs = true }).ToJson(), features.Card.ToJson());
        // … and each says what the run says.
        Assert.Equal(ModelCard.CurrentFormatVersion, card.FormatVersion);
        Assert.Equal("lenet5", card.ModelName);
        Assert.Equal("digits", card.Dataset);
        Assert.Equal(config.Data.ClassNames, card.Labels);
        Assert.Equal(new InputSpec { Name = "image", Layout = "NCHW", Shape = new TensorShape(1, 28, 28), Range = new ValueRange(0, 1) }, card.Input);
        Assert.Equal(config.Normalization.Mean, card.Normalization.Mean);
        Assert.Equal(config.Normalization.Std, card.Normalization.Std);
        Assert.True(card.Normalization.InGraph);
        Assert.Equal(PreprocessingKind.Digit, card.Preprocessing);
        Assert.Equal(
            [new("conv1", new(6, 28, 28)), new("pool1", new(6, 14, 14)), new("conv2", new(16, 10, 10)), new("pool2", new(16, 5, 5))],
            card.Features);
        Assert.False(card.HasFeatureOutputs);
        Assert.True(features.Card.HasFeatureOutputs);
        Assert.Matches("^[0-9a-f]{64}$", card.WeightsSha256);
        Assert.True(card.SharesWeightsWith(features.Card));
        Assert.Equal(run.ReadSummary().TestAccuracy, card.TestAccuracy);
        Assert.Equal(new ProducerInfo { Name = "cnn", Version = "0.2.0", TrainedWith = $"TorchSharp {config.Versions.TorchSharp}", Opset = 17 }, card.Producer);
        Assert.Equal(2, card.TrainingConfig!.Value.GetProperty("epochs").GetInt32());
        Assert.Equal("lenet5", card.ModelConfig!.Value.GetProperty("kind").GetString());
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], plain.FeatureNames);
    }

    [Fact]
    public void The_fitted_temperature_divides_the_logits_before_softmax_and_verify_checks_it()
    {
        torch.manual_seed(5);
        var config = ConfigFor(new LeNet5Config());
        using var model = config.Model.Build();
        var summary = new RunSummary("completed", 0.9, 0.3, 1, 0.3, 1, false, 1, 1, 61_706, 1, 1, Cnn.Contracts.ExecutionDevice.Cpu, 100, Temperature: 2.5, TestEce: 0.05, TestEceCalibrated: 0.01);
        var result = OnnxExporter.Export(model, config, summary, _dir.Combine("t.onnx"));
        Assert.Equal(2.5, result.Card.Temperature);

        // From ONNX Runtime's own outputs: probabilities = softmax(logits / 2.5), logits untouched.
        using var session = new InferenceSession(result.ModelPath);
        var images = TestImages(trained)[..8].to_type(ScalarType.Float32) / 255f;
        using var input = OrtValue.CreateTensorValueFromMemory(images.contiguous().data<float>().ToArray(), [8, 1, 28, 28]);
        using var outputs = session.Run(new RunOptions(), ["image"], [input], ["logits", "probabilities"]);
        var logits = tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray()).view(8, 10);
        var probabilities = tensor(outputs[1].GetTensorDataAsSpan<float>().ToArray()).view(8, 10);
        Assert.True(probabilities.allclose(nn.functional.softmax(logits / 2.5, 1), rtol: 1e-5, atol: 1e-6));

        var plan = ExportPlan.Create(model, [1, 28, 28]);
        Assert.True(OnnxVerifier.Verify(result.ModelPath, plan, config.Normalization, TestImages(trained), temperature: 2.5).Passed);
        var wrong = OnnxVerifier.Verify(result.ModelPath, plan, config.Normalization, TestImages(trained), temperature: 1);
        Assert.Equal([true, false], wrong.Outputs.Select(o => o.Passed));
    }

    [Fact]
    public void Different_weights_give_different_digests_and_equal_weights_equal_ones()
    {
        var one = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("one.onnx"));
        var again = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("again.onnx"), new ExportOptions { Opset = 18 });
        var two = OnnxExporter.ExportRun(trained.Runs[2.0], _dir.Combine("two.onnx"));
        Assert.Equal(one.Card.WeightsSha256, again.Card.WeightsSha256);
        Assert.NotEqual(one.Card.WeightsSha256, two.Card.WeightsSha256);
    }

    [Fact]
    public void Two_exports_of_the_same_weights_are_byte_identical()
    {
        var a = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("a", "model.onnx"));
        var b = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("b", "model.onnx"));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(a.ModelPath)), SHA256.HashData(File.ReadAllBytes(b.ModelPath)));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(a.FeaturesPath)), SHA256.HashData(File.ReadAllBytes(b.FeaturesPath)));
        Assert.NotEqual(File.ReadAllBytes(a.ModelPath), File.ReadAllBytes(a.FeaturesPath));
    }

    [Fact]
    public void Higher_opset_exports_and_verifies()
    {
        var run = trained.Runs[1.0];
        var result = OnnxExporter.ExportRun(run, _dir.Combine("o21.onnx"), new ExportOptions { Opset = 21 });
        var model = OnnxFile.Read(result.ModelPath);
        Assert.Equal(21, model.OpsetImport[0].Version);
        Assert.Equal(10, model.IrVersion);
        using var reference = new RunModel(run);
        AssertVerified(result, reference.Plan, reference.Config.Normalization, TestImages(trained), reference.Temperature);
    }

    [Fact]
    public void Unsupported_opset_names_the_range()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("x.onnx"), new ExportOptions { Opset = 9 }));
        Assert.StartsWith("opset 9 is not supported; expected 13..21", e.Message);
        Assert.False(File.Exists(_dir.Combine("x.onnx")));
    }

    [Fact]
    public void An_unsupported_module_is_named_with_its_path_and_type()
    {
        using var model = nn.Sequential(
            ("features", nn.Sequential(("conv", nn.Conv2d(1, 2, 3)), ("up", nn.Upsample(scale_factor: [2.0, 2.0])))),
            ("flatten", nn.Flatten()));
        var e = Assert.Throws<NotSupportedException>(() => ExportPlan.Create(model, [1, 8, 8]));
        Assert.StartsWith("module 'features.up' of type Upsample has no ONNX mapping; supported: Conv2d,", e.Message);
    }

    [Fact]
    public void A_model_whose_forward_is_not_its_registration_order_is_refused()
    {
        using var model = new Swapped();
        var e = Assert.Throws<NotSupportedException>(() => ExportPlan.Create(model, [4]));
        Assert.Equal("Swapped: running its modules in registration order does not reproduce its forward(); only chains of modules can be exported", e.Message);
    }

    [Fact]
    public void A_truncated_file_is_named_by_the_reader_and_by_onnx_runtime()
    {
        var result = OnnxExporter.ExportRun(trained.Runs[1.0], _dir.Combine("m.onnx"));
        var bytes = File.ReadAllBytes(result.ModelPath);
        string cut = _dir.Combine("cut.onnx");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);

        var read = Assert.Throws<InvalidDataException>(() => OnnxFile.Read(cut));
        Assert.StartsWith($"{cut}: not a valid ONNX model", read.Message);
        var load = Assert.Throws<InvalidDataException>(() => OnnxFile.OpenSession(cut));
        Assert.StartsWith($"{cut}: ONNX Runtime cannot load it: ", load.Message);
    }

    [Fact]
    public void A_tampered_weight_fails_verification_on_the_outputs_it_reaches()
    {
        var run = trained.Runs[1.0];
        var result = OnnxExporter.ExportRun(run, _dir.Combine("m.onnx"));
        var model = OnnxFile.Read(result.FeaturesPath);
        var fc3 = model.Graph.Initializer.Single(t => t.Name == "fc3.weight");
        var weights = fc3.RawData.ToByteArray();
        var first = BitConverter.ToSingle(weights, 0);
        BitConverter.GetBytes(first + 0.5f).CopyTo(weights, 0);
        fc3.RawData = ByteString.CopyFrom(weights);
        File.WriteAllBytes(result.FeaturesPath, model.ToByteArray());

        using var reference = new RunModel(run);
        var report = OnnxVerifier.Verify(result.FeaturesPath, [reference], TestImages(trained));

        Assert.False(report.Passed);
        Assert.All(report.Outputs.Where(o => o.Name.StartsWith("conv", StringComparison.Ordinal) || o.Name.StartsWith("pool", StringComparison.Ordinal)), o => Assert.True(o.Passed));
        Assert.False(report.Outputs.Single(o => o.Name == "logits").Passed);
    }

    [Fact]
    public void Exported_graph_holds_the_normalisation_so_raw_intensities_go_in()
    {
        var run = trained.Runs[1.0];
        var result = OnnxExporter.ExportRun(run, _dir.Combine("m.onnx"));
        var graph = OnnxFile.Read(result.ModelPath).Graph;
        string[] temperature = run.ReadSummary().Temperature == 1 ? [] : ["Div"];
        Assert.Equal(["Sub", "Div", "Conv", "Relu", "AveragePool", "Conv", "Relu", "AveragePool", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", .. temperature, "Softmax"],
            graph.Node.Select(n => n.OpType));
        var mean = graph.Initializer.Single(t => t.Name == "normalization.mean");
        Assert.Equal((float)run.ReadConfig().Normalization.Mean[0], BitConverter.ToSingle(mean.RawData.ToByteArray(), 0));
    }

    private sealed class Swapped : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear b;
        private readonly TorchSharp.Modules.Linear a;

        public Swapped()
            : base(nameof(Swapped))
        {
            b = nn.Linear(4, 4);
            a = nn.Linear(4, 4);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => b.call(a.call(input));
    }
}
