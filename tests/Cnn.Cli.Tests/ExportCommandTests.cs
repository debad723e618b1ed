using Cnn.Export;
using Cnn.Export.Onnx;
using Cnn.Tests;
using Google.Protobuf;

namespace Cnn.Cli.Tests;

/// <summary>One LeNet run trained for an epoch, shared by the export tests (which never change it).</summary>
public sealed class OneEpochRun : IDisposable
{
    private readonly TempFolder _dir = new();

    public OneEpochRun()
    {
        Data = SyntheticMnist.Write(_dir.Combine("data"), trainCount: 200, testCount: 70);
        Path = _dir.Combine("run");
        var (code, output) = Cli.Run("train", "lenet", "--data", Data, "--epochs", "1", "--threads", "1", "--out", Path);
        Assert.True(code == 0, output);
    }

    public string Path { get; }

    /// <summary>The generated data it trained on.</summary>
    public string Data { get; }

    public void Dispose() => _dir.Dispose();
}

public sealed class ExportCommandTests(OneEpochRun trained) : IClassFixture<OneEpochRun>, IDisposable
{
    private readonly TempFolder _dir = new();
    private readonly string _run = trained.Path;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Export_prints_the_inputs_and_outputs_of_both_files_and_verify_passes()
    {
        string file = _dir.Combine("exported", "model.onnx");
        var (code, output) = Cli.Run("export", _run, "--out", file);
        Assert.True(code == 0, output);
        Assert.Contains($"{file} (", output);
        Assert.Contains("input   image: float [N, 1, 28, 28]", output);
        Assert.Contains("output  conv1: float [N, 6, 28, 28]", output);
        Assert.Contains("output  pool2: float [N, 16, 5, 5]", output);
        Assert.Contains("output  probabilities: float [N, 10]", output);

        var (verifyCode, verifyOutput) = Cli.Run("verify", file, "--run", _run);
        Assert.True(verifyCode == 0, verifyOutput);
        Assert.Contains("test images ×1, uniform noise ×1, test images ×7, uniform noise ×7, test images ×64, uniform noise ×64", verifyOutput);
        Assert.Contains("model.features.onnx", verifyOutput);
        Assert.Contains("verified (abs ≤ 1E-005 or rel ≤ 1E-004 per element, fp32)", verifyOutput);

        // --split chooses the split an int8 file is compared on; a float file is compared element by element.
        var split = Cli.Run("verify", file, "--run", _run, "--split", "validation");
        Assert.Equal(1, split.ExitCode);
        Assert.Contains("--split chooses the split for an int8 file", split.Output);
        var unknown = Cli.Run("verify", file, "--run", _run, "--split", "train");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--split is 'train'; expected test or validation", unknown.Output);
    }

    [Fact]
    public void An_unsure_threshold_given_to_export_is_the_models_own_and_predict_uses_it()
    {
        string file = _dir.Combine("strict", "model.onnx");
        var (code, output) = Cli.Run("export", _run, "--out", file, "--unsure-below", "0.999");
        Assert.True(code == 0, output);
        using (var model = Cnn.Inference.CnnModel.Load(file))
        {
            Assert.Equal(0.999, model.Card.UnsureBelow);
            Assert.Equal(0.999, model.MinProbability);
        }

        // A one-epoch net is not 99.9 % sure of a noisy digit: the card's threshold marks it, --min-probability overrides it.
        string digit = _dir.Combine("digit.png");
        File.WriteAllBytes(digit, Digits.Png28(0));
        Assert.Contains("\"unsure\": true", Cli.Run("predict", file, digit, "--json").Output);
        Assert.Contains("\"unsure\": false", Cli.Run("predict", file, digit, "--json", "--min-probability", "0").Output);

        var (bad, message) = Cli.Run("export", _run, "--out", _dir.Combine("bad.onnx"), "--unsure-below", "0");
        Assert.Equal(2, bad);
        Assert.Contains("--unsure-below is 0; expected a probability in (0, 1]", message);
    }

    [Fact]
    public void Int8_export_is_refused_on_too_few_validation_images()
    {
        var few = Cli.Run("export", _run, "--int8", "--out", _dir.Combine("q.onnx"));
        Assert.Equal(1, few.ExitCode);
        Assert.Matches(@"calibration has \d+ images of the validation split; expected at least 64", few.Output);
        Assert.False(File.Exists(_dir.Combine("q.onnx")));
    }

    [Theory]
    [InlineData("--calibration was given without --int8", "--calibration", "100")]
    [InlineData("--calibration is 10; expected at least 64 images", "--int8", "--calibration", "10")]
    [InlineData("--calibration-method was given without --int8", "--calibration-method", "percentile")]
    [InlineData("--calibration-method is 'kl'; expected one of minmax, percentile, entropy", "--int8", "--calibration-method", "kl")]
    [InlineData("--int8-weights was given without --int8", "--int8-weights", "tensor")]
    public void Int8_options_are_refused_where_they_do_not_apply(string message, params string[] options)
    {
        var (code, output) = Cli.Run(["export", _run, .. options]);
        Assert.Equal(2, code);
        Assert.Contains(message, output);
    }

    [Fact]
    public void Several_runs_export_as_one_ensemble_that_verify_checks_against_all_of_them()
    {
        string second = _dir.Combine("seed2");
        var train = Cli.Run("train", "lenet", "--data", trained.Data, "--epochs", "1", "--threads", "1", "--seed", "2", "--out", second);
        Assert.True(train.ExitCode == 0, train.Output);

        var noOut = Cli.Run("export", _run, second);
        Assert.Equal(2, noOut.ExitCode);
        Assert.Contains("--out is missing; an ensemble of 2 runs has no run folder of its own to be written into", noOut.Output);

        string file = _dir.Combine("ensemble.onnx");
        var export = Cli.Run("export", _run, second, "--out", file);
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Matches(@"ensemble of 2 nets \(seeds 1, 2\): test accuracy \d+\.\d\d %; the members' own: \d+\.\d\d %, \d+\.\d\d %", export.Output);

        var one = Cli.Run("verify", file, "--run", _run);
        Assert.Equal(1, one.ExitCode);
        Assert.Contains($"error: {file} is an ensemble of 2 nets; give --run for each of them (2), in the order they were exported", one.Output);

        var both = Cli.Run("verify", file, "--run", _run, "--run", second);
        Assert.True(both.ExitCode == 0, both.Output);
        Assert.Contains("verified (abs ≤ 1E-005 or rel ≤ 1E-004 per element, fp32)", both.Output);
    }

    [Fact]
    public void An_ensemble_exports_in_int8_on_the_validation_split_its_runs_share_and_verify_checks_it_against_both()
    {
        // 40 % of 200 images held out: enough to calibrate on; the second run keeps the first's split by --split-seed.
        string first = _dir.Combine("q-seed1"), second = _dir.Combine("q-seed2"), apart = _dir.Combine("q-seed3");
        foreach (var (run, seed, split) in new[] { (first, "1", "1"), (second, "2", "1"), (apart, "3", "3") })
        {
            var train = Cli.Run("train", "lenet", "--data", trained.Data, "--epochs", "1", "--threads", "1", "--val-fraction", "0.4", "--seed", seed, "--split-seed", split, "--out", run);
            Assert.True(train.ExitCode == 0, train.Output);
        }

        string file = _dir.Combine("ensemble.int8.onnx");
        var export = Cli.Run("export", first, second, "--int8", "--out", file);
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Contains("int8 (QDQ): weights int8, symmetric, per output channel; biases int32; a convolution of one input channel stays float; activations int8, per tensor; calibrated by min-max over 80 images of the validation split", export.Output);
        Assert.Matches(@"ensemble of 2 nets \(seeds 1, 2\)", export.Output);

        var verify = Cli.Run("verify", file, "--run", first, "--run", second, "--split", "validation");
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("(int8) on 80 validation images", verify.Output);
        Assert.Contains("verified (at most 0.5 points of accuracy lost", verify.Output);

        string refused = _dir.Combine("apart.int8.onnx");
        var other = Cli.Run("export", first, apart, "--int8", "--out", refused);
        Assert.Equal(1, other.ExitCode);
        Assert.Contains($"{apart}: kept the validation split of split seed 3", other.Output);
        Assert.False(File.Exists(refused));
    }

    [Fact]
    public void A_float_file_whose_run_is_gone_exports_in_int8_as_its_run_would_and_verifies_against_the_file()
    {
        string run = _dir.Combine("held-out");
        var train = Cli.Run("train", "lenet", "--data", trained.Data, "--epochs", "1", "--threads", "1", "--val-fraction", "0.4", "--out", run);
        Assert.True(train.ExitCode == 0, train.Output);
        string fp32 = _dir.Combine("shipped", "m.onnx"), byRun = _dir.Combine("by-run.int8.onnx");
        Assert.Equal(0, Cli.Run("export", run, "--out", fp32).ExitCode);
        Assert.Equal(0, Cli.Run("export", run, "--int8", "--out", byRun).ExitCode);

        var export = Cli.Run("export", fp32, "--int8", "--data", trained.Data);
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Contains("calibrated by min-max over 80 images of the validation split", export.Output);
        string int8 = _dir.Combine("shipped", "m.int8.onnx");
        Assert.Equal(File.ReadAllBytes(byRun), File.ReadAllBytes(int8));

        var verify = Cli.Run("verify", int8, "--float", fp32, "--data", trained.Data, "--split", "validation");
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("m.int8.features.onnx (int8) on 80 validation images", verify.Output);
        Assert.Contains("verified (at most 0.5 points of accuracy lost", verify.Output);

        var notInt8 = Cli.Run("verify", fp32, "--float", fp32, "--data", trained.Data);
        Assert.Equal(1, notInt8.ExitCode);
        Assert.Contains($"--float is given for {fp32}, which is not an int8 file; a float file is verified against its run (--run)", notInt8.Output);
        var again = Cli.Run("export", int8, "--int8", "--data", trained.Data, "--out", _dir.Combine("twice.onnx"));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"{int8}: is already quantized (QDQ); quantize the float model it was made from", again.Output);
        Assert.False(File.Exists(_dir.Combine("twice.onnx")));
    }

    [Theory]
    [InlineData("is an ONNX file; a model file is exported again only in int8 (--int8), a float model from its run folder", "FILE")]
    [InlineData("is an ONNX file among 2 arguments; a float file is quantized alone (an ensemble from its runs)", "FILE", "RUN", "--int8", "--out", "x.onnx")]
    [InlineData("--data was given without a float FILE.onnx to quantize; a run folder records its own data", "RUN", "--int8", "--data", "somewhere")]
    public void Export_arguments_that_mix_files_and_runs_are_refused(string message, params string[] arguments)
    {
        string file = _dir.Combine("m.onnx");
        var (code, output) = Cli.Run(["export", .. arguments.Select(a => a == "FILE" ? file : a == "RUN" ? _run : a)]);
        Assert.Equal(2, code);
        Assert.Contains(message, output);
    }

    [Theory]
    [InlineData("--run and --float were both given", "--run", "RUN", "--float", "m.onnx")]
    [InlineData("--data was given without --float; a run folder records its own data", "--run", "RUN", "--data", "somewhere")]
    public void Verify_is_told_one_reference(string message, params string[] options)
    {
        var (code, output) = Cli.Run(["verify", _dir.Combine("q.onnx"), .. options.Select(a => a == "RUN" ? _run : a)]);
        Assert.Equal(2, code);
        Assert.Contains(message, output);
    }

    [Fact]
    public void Verify_exits_1_when_a_weight_was_changed()
    {
        string file = _dir.Combine("out", "lenet.onnx");
        Assert.Equal(0, Cli.Run("export", _run, "--out", file, "--opset", "18").ExitCode);
        var model = OnnxFile.Read(file);
        var conv1 = model.Graph.Initializer.Single(t => t.Name == "conv1.bias");
        var bytes = conv1.RawData.ToByteArray();
        BitConverter.GetBytes(BitConverter.ToSingle(bytes, 0) + 0.25f).CopyTo(bytes, 0);
        conv1.RawData = ByteString.CopyFrom(bytes);
        File.WriteAllBytes(file, model.ToByteArray());

        var (code, output) = Cli.Run("verify", file, "--run", _run);

        Assert.Equal(1, code);
        Assert.Contains("FAILED: outputs differ beyond abs ≤ 1E-005 or rel ≤ 1E-004", output);
    }

    [Fact]
    public void Bad_arguments_get_clear_errors()
    {
        var missingRun = Cli.Run("verify", _dir.Combine("model.onnx"));
        Assert.NotEqual(0, missingRun.ExitCode);
        Assert.Contains("--run is missing; expected the run folder the ONNX file was exported from", missingRun.Output);

        var opset = Cli.Run("export", _run, "--opset", "30");
        Assert.NotEqual(0, opset.ExitCode);
        Assert.Contains("--opset is 30; expected 13..21", opset.Output);

        var noRun = Cli.Run("export", _dir.Combine("nothing"));
        Assert.Equal(1, noRun.ExitCode);
        Assert.Contains($"error: {Path.Combine(_dir.Combine("nothing"), "config.json")} not found; expected a run folder written by `cnn train`", noRun.Output);

        File.WriteAllBytes(_dir.Combine("junk.onnx"), [1, 2, 3, 4, 5]);
        var junk = Cli.Run("verify", _dir.Combine("junk.onnx"), "--run", _run);
        Assert.Equal(1, junk.ExitCode);
        Assert.Contains($"error: {_dir.Combine("junk.onnx")}: ONNX Runtime cannot load it", junk.Output);
    }

    [Fact]
    public void An_export_that_fails_half_way_leaves_the_old_pair_as_it_was()
    {
        string file = _dir.Combine("pair", "m.onnx");
        Assert.Equal(0, Cli.Run("export", _run, "--out", file).ExitCode);
        var model = File.ReadAllBytes(file);
        var features = File.ReadAllBytes(_dir.Combine("pair", "m.features.onnx"));

        // The features file's temp name is taken by a folder: its write fails after the model's temp file is complete.
        Directory.CreateDirectory(_dir.Combine("pair", "m.features.onnx.tmp"));
        var failed = Cli.Run("export", _run, "--out", file, "--opset", "18");

        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("m.features.onnx.tmp", failed.Stderr);
        Assert.Equal(model, File.ReadAllBytes(file));
        Assert.Equal(features, File.ReadAllBytes(_dir.Combine("pair", "m.features.onnx")));
        Assert.False(File.Exists(_dir.Combine("pair", "m.onnx.tmp")));
    }
}
