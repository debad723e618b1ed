using Cnn.Tests;

namespace Cnn.Cli.Tests;

public sealed class InspectCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Inspect_lists_every_tensor_of_any_onnx_file_and_featuremaps_writes_any_of_them_by_name()
    {
        string foreign = Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", "torch-nchw-opset11.onnx");
        var (code, output) = Cli.Run("inspect", foreign);
        Assert.True(code == 0, output);
        Assert.Contains("ONNX IR 6, opset 11, 15 tensors", output);
        Assert.Matches(@"intermediate\s+│\s+/conv1/Conv_output_0\s+│\s+Conv\s+│\s+Float\s+│\s+\[N, 4, 24, 24\]", output);
        Assert.Matches(@"output\s+│\s+logits\s+│\s+Gemm\s+│\s+Float\s+│\s+\[N, 10\]", output);

        string digit = _dir.Combine("digit.png");
        File.WriteAllBytes(digit, Digits.Png28(0));
        string folder = _dir.Combine("maps");
        var maps = Cli.Run("featuremaps", Repository.ModelPath, digit, "--tensors", "conv1.conv,fc1", "--out", folder);
        Assert.True(maps.ExitCode == 0, maps.Output);
        Assert.Contains("conv1.conv [1, 6, 28, 28]", maps.Output);
        Assert.Contains("fc1 [1, 120]", maps.Output);
        Assert.True(File.Exists(Path.Combine(folder, "conv1.conv.png")) && File.Exists(Path.Combine(folder, "conv1.conv.npy")) && File.Exists(Path.Combine(folder, "fc1.npy")));
        Assert.False(File.Exists(Path.Combine(folder, "fc1.png")));
    }

    [Fact]
    public void Bad_names_and_files_get_one_line()
    {
        string digit = _dir.Combine("digit.png");
        File.WriteAllBytes(digit, Digits.Png28(0));
        var unknown = Cli.Run("featuremaps", Repository.ModelPath, digit, "--tensors", "fc9", "--out", _dir.Combine("x"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no tensor named 'fc9'; the closest: fc1, fc2", unknown.Output);
        var both = Cli.Run("featuremaps", Repository.ModelPath, digit, "--tensors", "fc1", "--layers", "conv1");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--layers and --tensors were both given", both.Output);
        var missing = Cli.Run("inspect", _dir.Combine("none.onnx"));
        Assert.Equal(1, missing.ExitCode);
        Assert.DoesNotContain("   at ", missing.Output);
    }
}

public sealed class DescribeCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Describe_writes_the_card_beside_a_pytorch_model_and_predict_then_reads_it()
    {
        string model = _dir.Combine("mnist-cnn.onnx");
        File.Copy(Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", "torch-nchw-opset11.onnx"), model);
        string digit = _dir.Combine("digit.png");
        File.WriteAllBytes(digit, Digits.Png28(0));
        var before = Cli.Run("predict", model, digit);
        Assert.Equal(1, before.ExitCode);
        Assert.Contains("cnn describe", before.Output);

        var (code, output) = Cli.Run("describe", model, "--labels", "0,1,2,3,4,5,6,7,8,9", "--preprocessing", "digit", "--mean", "0.1307", "--std", "0.3081");
        Assert.True(code == 0, output);
        Assert.Contains("input 'input' NCHW [1, 28, 28], output 'logits' (logits, softmax applied), 10 labels, 6 feature maps", output);
        Assert.True(File.Exists(_dir.Combine("mnist-cnn.card.json")));
        Assert.Equal(0, Cli.Run("predict", model, digit).ExitCode);

        var kept = Cli.Run("describe", model, "--labels", "0,1,2,3,4,5,6,7,8,9", "--preprocessing", "digit");
        Assert.Equal(1, kept.ExitCode);
        Assert.Contains("already exists; it is kept", kept.Output);
        var wrong = Cli.Run("describe", model, "--labels", "a,b", "--preprocessing", "digit", "--force");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("the graph's output 'logits' is Float [-1, 10]; 2 labels expect [N, 2] class scores", wrong.Output);
        var missing = Cli.Run("describe", model, "--labels", "0,1");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--preprocessing is needed: digit, gray or color", missing.Output);
    }
}
