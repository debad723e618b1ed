using Cnn.Export;
using Cnn.Export.Onnx;
using Cnn.Tests;
using Google.Protobuf;

namespace Cnn.Cli.Tests;

public sealed class ExportCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();
    private readonly string _run;

    public ExportCommandTests()
    {
        string data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 200, testCount: 70);
        _run = _dir.Combine("run");
        var (code, output) = CnnProcess.Run(_dir.Path, "train", "lenet", "--data", data, "--epochs", "1", "--threads", "1", "--out", _run);
        Assert.True(code == 0, output);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Export_prints_the_inputs_and_outputs_of_both_files_and_verify_passes()
    {
        var (code, output) = CnnProcess.Run(_dir.Path, "export", _run);
        Assert.True(code == 0, output);
        Assert.Contains($"{Path.Combine(_run, "model.onnx")} (", output);
        Assert.Contains("input   image: float [N, 1, 28, 28]", output);
        Assert.Contains("output  conv1: float [N, 6, 28, 28]", output);
        Assert.Contains("output  pool2: float [N, 16, 5, 5]", output);
        Assert.Contains("output  probabilities: float [N, 10]", output);

        var (verifyCode, verifyOutput) = CnnProcess.Run(_dir.Path, "verify", Path.Combine(_run, "model.onnx"), "--run", _run);
        Assert.True(verifyCode == 0, verifyOutput);
        Assert.Contains("test images ×1, uniform noise ×1, test images ×7, uniform noise ×7, test images ×64, uniform noise ×64", verifyOutput);
        Assert.Contains("model.features.onnx", verifyOutput);
        Assert.Contains("verified (abs ≤ 1E-005 or rel ≤ 1E-004 per element, fp32)", verifyOutput);
    }

    [Fact]
    public void Verify_exits_1_when_a_weight_was_changed()
    {
        string file = _dir.Combine("out", "lenet.onnx");
        Assert.Equal(0, CnnProcess.Run(_dir.Path, "export", _run, "--out", file, "--opset", "18").ExitCode);
        var model = OnnxFile.Read(file);
        var conv1 = model.Graph.Initializer.Single(t => t.Name == "conv1.bias");
        var bytes = conv1.RawData.ToByteArray();
        BitConverter.GetBytes(BitConverter.ToSingle(bytes, 0) + 0.25f).CopyTo(bytes, 0);
        conv1.RawData = ByteString.CopyFrom(bytes);
        File.WriteAllBytes(file, model.ToByteArray());

        var (code, output) = CnnProcess.Run(_dir.Path, "verify", file, "--run", _run);

        Assert.Equal(1, code);
        Assert.Contains("FAILED: outputs differ beyond abs ≤ 1E-005 or rel ≤ 1E-004", output);
    }

    [Fact]
    public void Bad_arguments_get_clear_errors()
    {
        var missingRun = CnnProcess.Run(_dir.Path, "verify", Path.Combine(_run, "model.onnx"));
        Assert.NotEqual(0, missingRun.ExitCode);
        Assert.Contains("--run is missing; expected the run folder the ONNX file was exported from", missingRun.Output);

        var opset = CnnProcess.Run(_dir.Path, "export", _run, "--opset", "30");
        Assert.NotEqual(0, opset.ExitCode);
        Assert.Contains("--opset is 30; expected 13..21", opset.Output);

        var noRun = CnnProcess.Run(_dir.Path, "export", _dir.Combine("nothing"));
        Assert.Equal(1, noRun.ExitCode);
        Assert.Contains($"error: {Path.Combine(_dir.Combine("nothing"), "config.json")} not found; expected a run folder written by `cnn train`", noRun.Output);

        File.WriteAllBytes(_dir.Combine("junk.onnx"), [1, 2, 3, 4, 5]);
        var junk = CnnProcess.Run(_dir.Path, "verify", _dir.Combine("junk.onnx"), "--run", _run);
        Assert.Equal(1, junk.ExitCode);
        Assert.Contains($"error: {_dir.Combine("junk.onnx")}: ONNX Runtime cannot load it", junk.Output);
    }
}
