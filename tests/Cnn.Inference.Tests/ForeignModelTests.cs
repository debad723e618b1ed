using System.Text.Json;
using Cnn.Contracts;
using Cnn.Tests;

namespace Cnn.Inference.Tests;

/// <summary>
/// CNNs this project did not train — exported by PyTorch (tests/Cnn.Inference.Tests/Foreign, made by make_foreign.py
/// there) — described once and then used as the project's own: predictions, feature maps and any tensor by name equal
/// what PyTorch computed for the same input.
/// </summary>
public sealed class ForeignModelTests : IDisposable
{
    /// <summary>float32 through two runtimes: every element within this absolute or relative error.</summary>
    private const float Absolute = 1e-5f, Relative = 1e-4f;

    private static readonly string[] Digits10 = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private readonly TempFolder _dir = new();
    private readonly JsonDocument _reference = JsonDocument.Parse(File.ReadAllText(Foreign("torch-reference.json")));

    public void Dispose()
    {
        _reference.Dispose();
        _dir.Dispose();
    }

    private static string Foreign(string name) => Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", name);

    private float[] Input => [.. _reference.RootElement.GetProperty("input").EnumerateArray().Select(v => v.GetSingle())];

    private float[] Reference(string name) => [.. _reference.RootElement.GetProperty("tensors").GetProperty(name).GetProperty("values").EnumerateArray().Select(v => v.GetSingle())];

    [Theory]
    [InlineData("torch-nchw-opset11.onnx", "NCHW")]
    [InlineData("torch-nchw-opset17.onnx", "NCHW")]
    [InlineData("torch-nhwc-batch1.onnx", "NHWC")]
    [InlineData("torch-nchw-opset7.onnx", "NCHW")]
    public void A_described_pytorch_model_predicts_and_gives_its_maps_as_pytorch_computed_them(string file, string layout)
    {
        string model = Copy(file);
        var card = ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Digit });
        Assert.Equal(("input", layout, new TensorShape(1, 28, 28)), (card.Input.Name, card.Input.Layout, card.Input.Shape));
        Assert.Equal(new OutputSpec { Name = "logits", Logits = true }, card.Output);
        Assert.Contains(card.Features, f => f.Name == "/conv1/Conv_output_0" && f.Shape == new TensorShape(4, 24, 24));
        Assert.Equal(ForeignModel.CardPathFor(model), ForeignModel.WriteCard(model, card));

        using var cnn = CnnModel.Load(model);

        var logits = Reference("logits");
        var softmax = logits.Select(l => MathF.Exp(l - logits.Max())).ToArray();
        Close([.. softmax.Select(e => e / softmax.Sum())], [.. cnn.Predict(Input).Probabilities]);
        var maps = cnn.GetFeatureMaps(Input, ["/conv1/Conv_output_0", "/MaxPool_output_0"]);
        Close(Reference("/conv1/Conv_output_0"), maps.Maps["/conv1/Conv_output_0"].Values);
        Close(Reference("/MaxPool_output_0"), maps.Maps["/MaxPool_output_0"].Values);
        Close(Reference("/Relu_output_0"), cnn.GetTensors(Input, ["/Relu_output_0"])["/Relu_output_0"].Values);
        // The conv kernels behind a map, found through the graph: the conv's own and its ReLU's; a pool has none.
        var kernels = cnn.GetKernels("/conv1/Conv_output_0");
        Assert.Equal((4, 1, 5, 5), (kernels.OutChannels, kernels.InChannels, kernels.Height, kernels.Width));
        Assert.Equal(kernels.Values, cnn.GetKernels("/Relu_output_0").Values);
        Assert.False(cnn.HasKernels("/MaxPool_output_0"));
        // Three images in one call, whether the graph's batch is symbolic or fixed at 1.
        var three = cnn.PredictBatch([.. Input, .. Input, .. Input], 3);
        Assert.All(three, p => Close([.. cnn.Predict(Input).Probabilities], [.. p.Probabilities]));
    }

    [Fact]
    public void A_colour_model_taking_nhwc_gets_the_callers_nchw_pixels_transposed()
    {
        string model = Copy("torch-color-nhwc.onnx");
        var card = ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Color });
        Assert.Equal(("NHWC", new TensorShape(3, 32, 32)), (card.Input.Layout, card.Input.Shape));
        ForeignModel.WriteCard(model, card);
        using var cnn = CnnModel.Load(model);
        float[] rgb = [.. _reference.RootElement.GetProperty("color_input_nchw").EnumerateArray().Select(v => v.GetSingle())];
        float[] logits = [.. _reference.RootElement.GetProperty("color_logits").EnumerateArray().Select(v => v.GetSingle())];

        var softmax = logits.Select(l => MathF.Exp(l - logits.Max())).ToArray();
        Close([.. softmax.Select(e => e / softmax.Sum())], [.. cnn.Predict(rgb).Probabilities]);
        Close([.. cnn.Predict(rgb).Probabilities], [.. cnn.PredictBatch([.. rgb, .. rgb], 2)[1].Probabilities]);
    }

    [Fact]
    public void A_pytorch_net_trained_on_mnist_reads_the_test_digits_as_pytorch_did()
    {
        string model = Copy("torch-mnist.onnx");
        var card = ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Digit, Mean = [0.1307], Std = [0.3081], Dataset = "mnist" });
        ForeignModel.WriteCard(model, card);
        using var producer = JsonDocument.Parse(File.ReadAllText(Foreign("torch-mnist-reference.json")));
        int[] expected = [.. producer.RootElement.GetProperty("embedded_test_predictions").EnumerateArray().Select(v => v.GetInt32())];
        using var cnn = CnnModel.Load(model);

        var predictions = cnn.PredictBatch(Cnn.Tests.Digits.Floats(0, Cnn.Tests.Digits.Count), Cnn.Tests.Digits.Count);

        Assert.Equal(expected, predictions.Select(p => p.Index));
        double accuracy = predictions.Where((p, i) => p.Index == Cnn.Tests.Digits.Label(i)).Count() / (double)predictions.Count;
        Assert.Equal(producer.RootElement.GetProperty("embedded_test_accuracy").GetDouble(), accuracy, 6);
    }

    [Fact]
    public void A_graph_written_by_the_onnx_helper_without_shapes_gets_them_inferred_and_reads_as_pytorch_computed()
    {
        string model = Copy("helper-no-shapes.onnx");
        var graph = OnnxGraph.Inspect(model);
        Assert.Equal([-1, 6, 28, 28], graph.Tensors.Single(t => t.Name == "relu").Shape);
        var card = ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Gray });
        Assert.Equal(["conv", "relu", "pool"], card.Features.Select(f => f.Name));
        ForeignModel.WriteCard(model, card);
        using var cnn = CnnModel.Load(model);
        var helper = _reference.RootElement.GetProperty("helper");
        float[] scores = [.. helper.GetProperty("scores").EnumerateArray().Select(v => v.GetSingle())];

        var softmax = scores.Select(l => MathF.Exp(l - scores.Max())).ToArray();
        Close([.. softmax.Select(e => e / softmax.Sum())], [.. cnn.Predict(Input).Probabilities]);
        Close([.. helper.GetProperty("relu").EnumerateArray().Select(v => v.GetSingle())], cnn.GetFeatureMaps(Input, ["relu"]).Maps["relu"].Values);
    }

    [Fact]
    public void The_producers_normalisation_is_applied_before_the_graph()
    {
        string plain = Copy("torch-nchw-opset11.onnx", "plain.onnx");
        string normalised = Copy("torch-nchw-opset11.onnx", "normalised.onnx");
        ForeignModel.WriteCard(plain, ForeignModel.Describe(plain, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Gray }));
        ForeignModel.WriteCard(normalised, ForeignModel.Describe(normalised, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Gray, Mean = [0.5], Std = [0.25] }));
        using var a = CnnModel.Load(plain);
        using var b = CnnModel.Load(normalised);

        Close([.. a.Predict([.. Input.Select(x => (x - 0.5f) / 0.25f)]).Probabilities], [.. b.Predict(Input).Probabilities]);
    }

    [Fact]
    public void What_contradicts_the_graph_is_refused_naming_both()
    {
        string model = Copy("torch-nchw-opset11.onnx");
        var five = Assert.Throws<InvalidModelException>(() => ForeignModel.Describe(model, new ForeignModelOptions { Labels = ["a", "b", "c", "d", "e"], Preprocessing = PreprocessingKind.Digit }));
        Assert.Equal($"{model}: the graph's output 'logits' is Float [-1, 10]; 5 labels expect [N, 5] class scores", five.Message);
        var colour = Assert.Throws<InvalidModelException>(() => ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Color }));
        Assert.Equal($"{model}: the graph's input 'input' has 1 channel(s) in NCHW; preprocessing color gives 3", colour.Message);
        var feature = Assert.Throws<InvalidModelException>(() => ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Digit, Features = ["/conv1/Conv_outptu_0"] }));
        Assert.StartsWith($"{model}: '/conv1/Conv_outptu_0' is not a [N, C, H, W] float tensor the graph computes; the closest: /conv1/Conv_output_0", feature.Message);
        string two = Copy("helper-two-inputs.onnx");
        var inputs = Assert.Throws<InvalidModelException>(() => ForeignModel.Describe(two, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Digit }));
        Assert.Equal($"{two}: the graph has 2 inputs (a, b); expected one image input", inputs.Message);
        var large = Assert.Throws<InvalidModelException>(() => OnnxGraph.Inspect(model, new InferenceOptions { MaxModelBytes = 1_000 }));
        Assert.Contains("(InferenceOptions.MaxModelBytes)", large.Message);
        var nameless = Assert.Throws<InvalidModelException>(() => CnnModel.Load(model));
        Assert.Contains("has no model card", nameless.Message);
        Assert.Contains($"`cnn describe {model} --labels …`", nameless.Message);

        var card = ForeignModel.Describe(model, new ForeignModelOptions { Labels = Digits10, Preprocessing = PreprocessingKind.Digit });
        ForeignModel.WriteCard(model, card);
        var again = Assert.Throws<IOException>(() => ForeignModel.WriteCard(model, card));
        Assert.Contains("already exists; it is kept", again.Message);
    }

    private string Copy(string file, string? name = null)
    {
        string path = _dir.Combine(name ?? file);
        File.Copy(Foreign(file), path);
        return path;
    }

    private static void Close(float[] expected, float[] actual) => Assert.Null(Tolerance.FirstOutside(expected, actual, Absolute, Relative));
}
