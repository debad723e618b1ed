using System.Text.Json;
using Cnn.Tests;

namespace Cnn.Inference.Tests;

/// <summary>
/// Any tensor of a graph by name, and what a graph holds, for this project's models and for CNNs PyTorch exported
/// (tests/Cnn.Inference.Tests/Foreign, made by make_foreign.py there).
/// </summary>
public sealed class TensorsByNameTests
{
    /// <summary>float32 through two runtimes: every element within this absolute or relative error.</summary>
    private const float Absolute = 1e-5f, Relative = 1e-4f;

    private static string Foreign(string name) => Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", name);

    [Fact]
    public void Any_tensor_of_the_projects_model_equals_its_feature_maps_and_its_prediction()
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        var pixels = Digits.Floats(0, 1);

        var tensors = model.GetTensors(pixels, ["conv1", "pool2", "conv1.conv", "fc1", "probabilities"]);

        var maps = model.GetFeatureMaps(pixels, ["conv1", "pool2"]);
        Assert.Equal([1, 6, 28, 28], tensors["conv1"].Shape);
        Assert.Equal([1, 120], tensors["fc1"].Shape);
        Close(maps.Maps["conv1"].Values, tensors["conv1"].Values);
        Close(maps.Maps["pool2"].Values, tensors["pool2"].Values);
        Close([.. model.Predict(pixels).Probabilities], tensors["probabilities"].Values);
        // conv1 is conv1.conv after its ReLU.
        Close([.. tensors["conv1.conv"].Values.Select(v => Math.Max(0, v))], tensors["conv1"].Values);
        // The same names again come from the kept session.
        Close(tensors["fc1"].Values, model.GetTensors(pixels, ["probabilities", "fc1"])["fc1"].Values);
    }

    [Fact]
    public void An_unknown_name_lists_the_closest_real_ones_and_the_input_and_a_repeat_are_refused()
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        var pixels = Digits.Floats(0, 1);

        var unknown = Assert.Throws<UnknownOutputException>(() => model.GetTensors(pixels, ["conv1.cnv"]));
        Assert.Equal($"{Repository.ModelPath}: no tensor named 'conv1.cnv'; the closest: conv1.conv, conv2.conv, conv1 (cnn inspect lists them all)", unknown.Message);
        var input = Assert.Throws<UnknownOutputException>(() => model.GetTensors(pixels, ["image"]));
        Assert.Contains("'image' is the graph's input, not a tensor it computes", input.Message);
        var twice = Assert.Throws<UnknownOutputException>(() => model.GetTensors(pixels, ["fc1", "fc1"]));
        Assert.Contains("tensor 'fc1' is asked for twice", twice.Message);
        Assert.Throws<InputShapeException>(() => model.GetTensors(new float[10], ["fc1"]));
    }

    [Theory]
    [InlineData("torch-nchw-opset11.onnx", 6, 11, new long[] { -1, 1, 28, 28 })]
    [InlineData("torch-nchw-opset17.onnx", 8, 17, new long[] { -1, 1, 28, 28 })]
    [InlineData("torch-nhwc-batch1.onnx", 6, 11, new long[] { 1, 28, 28, 1 })]
    [InlineData("torch-nchw-opset7.onnx", 3, 7, new long[] { 1, 1, 28, 28 })]
    public void A_graph_pytorch_exported_lists_every_tensor_with_its_operator_and_inferred_shape(string file, long ir, long opset, long[] input)
    {
        var graph = OnnxGraph.Inspect(Foreign(file));

        Assert.Equal((ir, opset), (graph.IrVersion, graph.Opset));
        var first = graph.Tensors[0];
        Assert.Equal(("input", TensorRole.Input, "", "Float"), (first.Name, first.Role, first.Operator, first.ElementType));
        Assert.Equal(input, first.Shape);
        var conv = graph.Tensors.Single(t => t.Name == "/conv1/Conv_output_0");
        Assert.Equal((TensorRole.Intermediate, "Conv", "Float"), (conv.Role, conv.Operator, conv.ElementType));
        Assert.Equal([input[0], 4, 24, 24], conv.Shape);
        var pool = graph.Tensors.Single(t => t.Name == "/MaxPool_1_output_0");
        Assert.Equal("MaxPool", pool.Operator);
        Assert.Equal([input[0], 8, 4, 4], pool.Shape);
        var logits = graph.Tensors[^1];
        Assert.Equal(("logits", TensorRole.Output, "Gemm"), (logits.Name, logits.Role, logits.Operator));
    }

    [Fact]
    public void Tensors_of_a_pytorch_graph_read_by_name_equal_what_pytorch_computed()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(Foreign("torch-reference.json")));
        var input = reference.RootElement.GetProperty("input").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        string path = Foreign("torch-nchw-opset11.onnx");
        var bytes = File.ReadAllBytes(path);
        using var taps = new TensorTaps(bytes, OnnxGraphReader.Read(bytes, path), path, new InferenceOptions { IntraOpThreads = 1 });
        using var run = new Microsoft.ML.OnnxRuntime.RunOptions();
        var names = reference.RootElement.GetProperty("tensors").EnumerateObject().Select(p => p.Name).ToList();

        var tensors = taps.Run(input, [1, 1, 28, 28], names, run);

        foreach (var expected in reference.RootElement.GetProperty("tensors").EnumerateObject())
        {
            Assert.Equal(expected.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()), tensors[expected.Name].Shape);
            Close([.. expected.Value.GetProperty("values").EnumerateArray().Select(v => v.GetSingle())], tensors[expected.Name].Values);
        }

        var shape = Assert.Throws<UnknownOutputException>(() => taps.Run(input, [1, 1, 28, 28], ["/Shape_output_0"], run));
        Assert.Equal($"{path}: tensor '/Shape_output_0' holds Int64 values; only float tensors can be read", shape.Message);
    }

    [Fact]
    public void A_graph_with_its_weights_in_an_external_file_is_read_beside_it_and_a_missing_file_is_named()
    {
        using var dir = new TempFolder();
        string model = dir.Combine("torch-external-data.onnx");
        File.Copy(Foreign("torch-external-data.onnx"), model);
        File.Copy(Foreign("torch-external-data.weights"), dir.Combine("torch-external-data.weights"));
        string plain = dir.Combine("plain.onnx");
        File.Copy(Foreign("torch-nchw-opset11.onnx"), plain);
        var options = new ForeignModelOptions { Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], Preprocessing = Cnn.Contracts.PreprocessingKind.Digit };
        ForeignModel.WriteCard(model, ForeignModel.Describe(model, options));
        ForeignModel.WriteCard(plain, ForeignModel.Describe(plain, options));

        Assert.Equal([-1, 4, 24, 24], OnnxGraph.Inspect(model).Tensors.Single(t => t.Name == "/conv1/Conv_output_0").Shape);
        using (var external = CnnModel.Load(model))
        using (var inFile = CnnModel.Load(plain))
        {
            var pixels = Digits.Floats(0, 1);
            Close([.. inFile.Predict(pixels).Probabilities], [.. external.Predict(pixels).Probabilities]);
            Close(inFile.GetTensors(pixels, ["/Relu_output_0"])["/Relu_output_0"].Values, external.GetTensors(pixels, ["/Relu_output_0"])["/Relu_output_0"].Values);
        }

        File.Delete(dir.Combine("torch-external-data.weights"));
        var e = Assert.Throws<InvalidModelException>(() => OnnxGraph.Inspect(model));
        Assert.Equal($"{model}: the graph keeps its weights in external data files, and torch-external-data.weights is missing from {dir.Path}", e.Message);
        Assert.Equal(e.Message, Assert.Throws<InvalidModelException>(() => CnnModel.Load(model)).Message);
    }

    private static void Close(float[] expected, float[] actual) => Assert.Null(Tolerance.FirstOutside(expected, actual, Absolute, Relative));
}
