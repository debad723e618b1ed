using System.Security.Cryptography;
using Cnn.Export.Onnx;
using Cnn.Tests;
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
        foreach (double width in new[] { 1.0, 2.0 })
        {
            var options = new TrainOptions { Epochs = 2, Threads = 1, Device = "cpu", Patience = 0, BatchSize = 32, ValidationFraction = 0.2 };
            using var training = LeNetRecipe.Load(Files, "digits", DatasetCatalog.DigitClasses, options);
            var run = new RunFolder(_dir.Combine($"run-w{width}"));
            var config = new RunConfig(LeNetRecipe.Model(training, width), options, training.Info, training.Normalization, VersionInfo.Current());
            new Trainer(run, config, training).Fit(resume: false);
            Runs[width] = run;
        }
    }

    public MnistFiles Files { get; }

    public Dictionary<double, RunFolder> Runs { get; } = [];

    public string Temp(string name) => _dir.Combine(name);

    public void Dispose() => _dir.Dispose();
}

public sealed class ExportTests(TrainedRuns trained) : IClassFixture<TrainedRuns>, IDisposable
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

    private static void AssertVerified(ExportResult result, ExportPlan plan, Normalization normalization, Tensor images)
    {
        var plain = OnnxVerifier.Verify(result.ModelPath, plan, normalization, images);
        var features = OnnxVerifier.Verify(result.FeaturesPath, plan, normalization, images);
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
        AssertVerified(result, reference.Plan, reference.Config.Normalization, TestImages(trained));
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
    public void Metadata_round_trips_through_onnx_runtime()
    {
        var run = trained.Runs[1.0];
        var result = OnnxExporter.ExportRun(run, _dir.Combine("m.onnx"));
        using var session = new InferenceSession(result.FeaturesPath);
        var meta = session.ModelMetadata;
        var map = meta.CustomMetadataMap;
        var config = run.ReadConfig();

        Assert.Equal("cnn", meta.ProducerName);
        Assert.Equal("lenet5", map["model_name"]);
        Assert.Equal("digits", map["dataset"]);
        Assert.Equal("[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]", map["class_labels"]);
        Assert.Equal("[\"conv1\",\"pool1\",\"conv2\",\"pool2\"]", map["feature_outputs"]);
        Assert.Equal("NCHW", map["input_layout"]);
        Assert.Equal("[N,1,28,28]", map["input_shape"]);
        Assert.Equal("[0,1]", map["input_range"]);
        Assert.Equal("m.features.onnx", map["features_model"]);
        Assert.Equal(run.ReadSummary().TestAccuracy, double.Parse(map["test_accuracy"], System.Globalization.CultureInfo.InvariantCulture));
        var normalization = System.Text.Json.JsonSerializer.Deserialize<Normalization>(map["normalization"], RunFolder.Json)!;
        Assert.Equal(config.Normalization.Mean, normalization.Mean);
        Assert.Equal(config.Normalization.Std, normalization.Std);
        Assert.Contains("\"kind\":\"lenet5\"", map["model_config"]);
        Assert.Contains("\"epochs\":2", map["training_config"]);

        using var plain = new InferenceSession(result.ModelPath);
        Assert.Equal("[]", plain.ModelMetadata.CustomMetadataMap["feature_outputs"]);
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
        AssertVerified(result, reference.Plan, reference.Config.Normalization, TestImages(trained));
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
        var report = OnnxVerifier.Verify(result.FeaturesPath, reference.Plan, reference.Config.Normalization, TestImages(trained));

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
        Assert.Equal(["Sub", "Div", "Conv", "Relu", "AveragePool", "Conv", "Relu", "AveragePool", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"],
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
