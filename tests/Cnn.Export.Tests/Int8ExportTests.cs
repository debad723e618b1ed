using System.Text.Json;
using Cnn.Contracts;
using Cnn.Export.Quantization;
using Cnn.Inference;
using Cnn.Tests;
using Cnn.Train.Data;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Cnn.Export.Tests;

/// <summary>The int8 export of a trained LeNet-5: integer kernels, the float model's answers, float feature maps.</summary>
[Collection(TrainedRunsCollection.Name)]
public sealed class Int8ExportTests(TrainedRuns trained) : IDisposable
{
    private readonly TempFolder _dir = new();
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        _owned.ForEach(o => o.Dispose());
        _dir.Dispose();
    }

    private (string Int8, string Float, float[] Test, int Count) Export()
    {
        var run = trained.Runs[1.0];
        var config = run.ReadConfig();
        using var data = Datasets.ReloadAsync(config).GetAwaiter().GetResult();
        float[] Floats(Tensor images) => images.to_type(ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        using var model = run.LoadModel(config);
        string int8 = _dir.Combine("model.int8.onnx"), fp32 = _dir.Combine("model.onnx");
        OnnxExporter.ExportRun(run, fp32);
        // The fixture's validation split holds 60 images, under the minimum: the mechanics are calibrated on its training split.
        var result = Int8Exporter.Export(model, config, run.ReadSummary(), int8, Floats(data.Train.Images), (int)data.Train.Count, "training");
        Assert.Equal("QDQ", result.Card.Quantization!.Format);
        Assert.Equal($"min-max over {data.Train.Count} images of the training split", result.Card.Quantization.Calibration);
        return (int8, fp32, Floats(data.Test.Images), (int)data.Test.Count);
    }

    [Fact]
    public void The_int8_model_runs_integer_kernels_and_answers_as_the_float_one()
    {
        var (int8, fp32, test, count) = Export();

        // Really integer: ONNX Runtime's profile names the fused integer operators, and no float Gemm is left; the one
        // float Conv is conv1, which reads one channel and stays float by design.
        var ops = ProfiledOperators(int8, test.AsSpan(0, 784).ToArray());
        Assert.Contains("QLinearConv", ops.Select(o => o.Op));
        Assert.Contains("QGemm", ops.Select(o => o.Op));
        Assert.DoesNotContain("Gemm", ops.Select(o => o.Op));
        // (ONNX Runtime renames the node it rewrites to NCHWc: conv1_nchwc.)
        var floatConvs = ops.Where(o => o.Op == "Conv").Select(o => o.Node).Distinct().ToList();
        Assert.NotEmpty(floatConvs);
        Assert.All(floatConvs, node => Assert.Matches("^conv1([._]|$)", node));
        // Average pools stay float too (ONNX Runtime's QLinearAveragePool is slower than the float one).
        Assert.DoesNotContain("QLinearAveragePool", ops.Select(o => o.Op));

        using var q = CnnModel.Load(int8);
        using var f = CnnModel.Load(fp32);
        var a = q.PredictBatch(test, count);
        var b = f.PredictBatch(test, count);
        // Two epochs on generated digits; the int8 model gives the float model's label for at least 97 % of the test images.
        int agree = a.Zip(b).Count(p => p.First.Index == p.Second.Index);
        Assert.True(agree >= 0.97 * count, $"{agree} of {count} agree");
        // An int8 conv's kernels are its int8 weights times their channel's scale: within half a step of the float ones.
        var k = q.GetKernels("conv2");
        var reference2 = f.GetKernels("conv2");
        float step = reference2.Values.Select(Math.Abs).Max() / 127f;
        Assert.True(k.Values.Zip(reference2.Values).All(p => Math.Abs(p.First - p.Second) <= step / 2 + 1e-6f), "conv2's kernels within half an int8 step");
        Assert.Equal(f.GetKernels("conv1").Values, q.GetKernels("conv1").Values);
        // The maps stay float outputs of the same names and shapes, close to the float model's.
        var maps = q.GetFeatureMaps(test.AsSpan(0, 784), ["conv1", "pool2"]);
        var reference = f.GetFeatureMaps(test.AsSpan(0, 784), ["conv1", "pool2"]);
        Assert.Equal(reference.Maps["conv1"].Values.Length, maps.Maps["conv1"].Values.Length);
        float scale = reference.Maps["conv1"].Values.Max();
        Assert.True(maps.Maps["conv1"].Values.Zip(reference.Maps["conv1"].Values).All(p => Math.Abs(p.First - p.Second) <= 0.05f * scale), "conv1 within 5 % of its largest value");
    }

    [Fact]
    public async Task Verify_compares_the_int8_files_answers_and_maps_with_the_runs_float_model()
    {
        var (int8, _, _, _) = Export();
        var run = trained.Runs[1.0];
        using var model = new RunModel(run);
        using var data = await Datasets.ReloadAsync(model.Config);

        var plain = Int8Verifier.Verify(int8, model, data.Test.Images, data.Test.Labels);
        var features = Int8Verifier.Verify(OnnxNames.FeaturesPathFor(int8), model, data.Test.Images, data.Test.Labels);

        Assert.Equal((int)data.Test.Count, plain.Images);
        Assert.True(plain.Agreement >= 0.97, $"agreement {plain.Agreement}");
        Assert.Empty(plain.MapErrors);
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], features.MapErrors.Keys);
        Assert.Equal(plain.Int8Accuracy, features.Int8Accuracy);
        Assert.True(plain.Passed && features.Passed, $"{plain.AccuracyChange} points; maps {string.Join(", ", features.MapErrors.Select(m => $"{m.Key} {m.Value.Mean:P2}"))}");
    }

    [Theory]
    [InlineData(CalibrationMethod.Percentile, "0.001th to 99.999th percentile", false)]
    [InlineData(CalibrationMethod.Entropy, "entropy (upper cut of least KL divergence)", true)]
    public async Task Percentile_and_entropy_calibration_narrow_some_ranges_and_say_so_in_the_card(CalibrationMethod method, string described, bool bottomKept)
    {
        var (export, count) = await Exporter();
        string path = _dir.Combine($"{method}.onnx");
        var card = export(path, method, null);
        Assert.Equal($"{described} over {count} images of the training split", card.Quantization!.Calibration);

        // Each activation's scale (its range / 255) is at most min-max's, and narrower for some: values clip.
        string minMaxPath = Export().Int8;
        var minMax = Scales(minMaxPath);
        var scales = Scales(path);
        Assert.Equal(minMax.Keys.Order(), scales.Keys.Order());
        Assert.All(scales, p => Assert.True(p.Value <= minMax[p.Key] * (1 + 1e-6), $"{p.Key}: {p.Value} against min-max's {minMax[p.Key]}"));
        Assert.Contains(scales, p => p.Value < minMax[p.Key] * 0.999);
        if (bottomKept)
        {
            // Entropy cuts the top only: each range still starts at the smallest value seen, within one of its steps.
            var (zero, zeroMinMax) = (ZeroPoints(path), ZeroPoints(minMaxPath));
            foreach (var key in scales.Keys)
            {
                string name = key[..^".scale".Length];
                float bottom = (-128 - zero[$"{name}.zero_point"]) * scales[key], bottomMinMax = (-128 - zeroMinMax[$"{name}.zero_point"]) * minMax[key];
                Assert.True(Math.Abs(bottom - bottomMinMax) <= scales[key] * 1.001f, $"{name}: starts at {bottom}, min-max at {bottomMinMax}");
            }
        }
    }

    [Fact]
    public void The_entropy_cut_drops_a_sparse_tail_and_keeps_a_full_range()
    {
        // A ReLU output's shape: mass falling off exponentially (99.9 % of it in the first 415 bins), and three
        // stragglers far above it. The cut drops the stragglers and keeps the body.
        var tail = Enumerable.Range(0, 2048).Select(i => (long)Math.Round(1e6 * Math.Exp(-i / 60.0))).ToArray();
        tail[1500] = tail[1800] = tail[2040] = 1;
        int cut = Calibrator.EntropyCut(tail, 255);
        Assert.InRange(cut, 415, 1500);

        // Mass all the way to the top: cutting it only loses information.
        var even = Enumerable.Repeat(1000L, 2048).ToArray();
        Assert.Equal(2048, Calibrator.EntropyCut(even, 255));
    }

    /// <summary>The activations' zero points of an int8 file, by tensor name.</summary>
    private static Dictionary<string, int> ZeroPoints(string path)
    {
        var model = Cnn.Export.Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        return model.Graph.Initializer.Where(t => t.Name.EndsWith(".zero_point", StringComparison.Ordinal) && t.Dims.Count == 0)
            .ToDictionary(t => t.Name, t => t.RawData.Length > 0 ? (int)(sbyte)t.RawData[0] : t.Int32Data[0]);
    }

    [Fact]
    public async Task The_u8s8_and_per_tensor_forms_are_written_as_asked_and_answer_as_the_float_model()
    {
        var (export, _) = await Exporter();
        var (_, fp32, test, count) = Export();
        using var f = CnnModel.Load(fp32);
        var expected = f.PredictBatch(test, count);
        foreach (var form in new[] { new QuantizationForm(ActivationType.UInt8), new QuantizationForm(Weights: WeightScales.Tensor) })
        {
            string path = _dir.Combine($"form-{form.Activations}-{form.Weights}.onnx");
            var card = export(path, CalibrationMethod.MinMax, form);
            Assert.Equal(form.Activations == ActivationType.UInt8 ? "uint8, per tensor" : "int8, per tensor", card.Quantization!.Activations);
            Assert.StartsWith(form.Weights == WeightScales.Tensor ? "int8, symmetric, per layer" : "int8, symmetric, per output channel", card.Quantization.Weights, StringComparison.Ordinal);

            var graph = Cnn.Export.Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
            var zeroPoints = graph.Initializer.Where(t => t.Name.EndsWith(".zero_point", StringComparison.Ordinal) && t.Dims.Count == 0).ToList();
            Assert.NotEmpty(zeroPoints);
            var activationType = form.Activations == ActivationType.UInt8 ? Cnn.Export.Onnx.TensorProto.Types.DataType.Uint8 : Cnn.Export.Onnx.TensorProto.Types.DataType.Int8;
            Assert.All(zeroPoints, z => Assert.Equal((int)activationType, z.DataType));
            var conv2Scales = graph.Initializer.Single(t => t.Name == "conv2.weight.scale");
            var distinct = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(conv2Scales.RawData.Span).ToArray().Distinct().Count();
            Assert.True(form.Weights == WeightScales.Tensor ? distinct == 1 : distinct > 1, $"{distinct} distinct conv2 weight scales");

            using var q = CnnModel.Load(path);
            int agree = q.PredictBatch(test, count).Zip(expected).Count(p => p.First.Index == p.Second.Index);
            Assert.True(agree >= 0.97 * count, $"{form}: {agree} of {count} agree");
        }
    }

    /// <summary>An int8 export of the fixture's run calibrated on its training split, as asked (path, method, form → card), and the image count.</summary>
    private async Task<(Func<string, CalibrationMethod, QuantizationForm?, ModelCard> Export, long Count)> Exporter()
    {
        var run = trained.Runs[1.0];
        var config = run.ReadConfig();
        using var data = await Datasets.ReloadAsync(config);
        var model = run.LoadModel(config);
        _owned.Add(model);
        var images = data.Train.Images.to_type(ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        long count = data.Train.Count;
        return ((path, method, form) => Int8Exporter.Export(model, config, run.ReadSummary(), path, images, (int)count, "training", method: method, form: form).Card, count);
    }

    /// <summary>The activations' scales of an int8 file, by tensor name.</summary>
    private static Dictionary<string, float> Scales(string path)
    {
        var model = Cnn.Export.Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        return model.Graph.Initializer.Where(t => t.Name.EndsWith(".scale", StringComparison.Ordinal) && t.Dims.Count == 0)
            .ToDictionary(t => t.Name, t => t.RawData.Length > 0 ? BitConverter.ToSingle(t.RawData.Span) : t.FloatData[0]);
    }

    [Fact]
    public void Too_few_calibration_images_are_refused_and_nothing_is_written()
    {
        var run = trained.Runs[1.0];
        var config = run.ReadConfig();
        using var model = run.LoadModel(config);
        var few = Assert.Throws<ArgumentException>(() => Int8Exporter.Export(model, config, null, _dir.Combine("x.onnx"), new float[10 * 784], 10, "validation"));
        Assert.Equal("calibration has 10 images of the validation split; expected at least 64", few.Message);
        Assert.False(File.Exists(_dir.Combine("x.onnx")));
    }

    [Fact]
    public async Task An_ensemble_in_int8_runs_each_nets_layers_as_integer_kernels_and_verifies_against_the_float_ensemble()
    {
        using var a = new RunModel(trained.Runs[1.0]);
        using var b = new RunModel(trained.SecondSeed);
        using var data = await Datasets.ReloadAsync(a.Config);
        var images = data.Train.Images.to_type(ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        string path = _dir.Combine("ensemble.int8.onnx"), fp32 = _dir.Combine("ensemble.onnx");
        EnsembleExporter.Export([a, b], fp32, data.Test.Images, data.Test.Labels);

        var result = Int8Exporter.ExportEnsemble([a, b], path, data.Test.Images, data.Test.Labels, images, (int)data.Train.Count, "training");

        Assert.Equal([1L, 2L], result.Card.Members.Select(m => m.Seed));
        Assert.Equal($"min-max over {data.Train.Count} images of the training split", result.Card.Quantization!.Calibration);
        // Both nets' second convolution and linear layers run as integer kernels; the scores each softmax reads stay float.
        var test = data.Test.Images.to_type(ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        var ops = ProfiledOperators(path, test.AsSpan(0, 784).ToArray());
        Assert.Contains(ops, o => o.Op == "QLinearConv" && o.Node.StartsWith("conv2", StringComparison.Ordinal));
        Assert.Contains(ops, o => o.Op == "QLinearConv" && o.Node.StartsWith(OnnxNames.MemberPrefix(2) + "conv2", StringComparison.Ordinal));
        Assert.DoesNotContain("Gemm", ops.Select(o => o.Op));
        var graph = Cnn.Export.Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        Assert.DoesNotContain(graph.Node, n => n.OpType == "QuantizeLinear" && n.Input[0].EndsWith(OnnxNames.Logits, StringComparison.Ordinal));

        var report = Int8Verifier.Verify(OnnxNames.FeaturesPathFor(path), [a, b], data.Test.Images, data.Test.Labels);
        Assert.True(report.Passed, $"{report.AccuracyChange} points; maps {string.Join(", ", report.MapErrors.Select(m => $"{m.Key} {m.Value.Mean:P2}"))}");
        Assert.True(report.Agreement >= 0.97, $"agreement {report.Agreement}");
        Assert.Equal(["conv1", "pool1", "conv2", "pool2"], report.MapErrors.Keys);
        using var q = CnnModel.Load(path);
        using var f = CnnModel.Load(fp32);
        int count = (int)data.Test.Count;
        int agree = q.PredictBatch(test, count).Zip(f.PredictBatch(test, count)).Count(p => p.First.Index == p.Second.Index);
        Assert.True(agree >= 0.97 * count, $"{agree} of {count} agree");
    }

    [Fact]
    public void An_int8_ensemble_of_runs_with_different_validation_splits_is_refused_and_nothing_is_written()
    {
        // The second seed's run, as if trained without --split-seed: its validation split is then its own.
        string copy = _dir.Combine("other-split");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(trained.SecondSeed.Path))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        string config = Path.Combine(copy, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"split_seed\": 1", "\"split_seed\": 7", StringComparison.Ordinal));
        using var a = new RunModel(trained.Runs[1.0]);
        using var b = new RunModel(new Cnn.Train.Training.RunFolder(copy));
        Assert.Equal(7, b.Config.Training.SplitSeed);
        string path = _dir.Combine("refused.onnx");

        var e = Assert.Throws<ArgumentException>(() => Int8Exporter.ExportEnsemble([a, b], path, zeros(1, 1, 28, 28, ScalarType.Byte), zeros(1, ScalarType.Int64), new float[64 * 784], 64, "validation"));

        Assert.Equal($"{copy}: kept the validation split of split seed 7 (20.0 %); {a.Path} that of split seed 1 (20.0 %); an int8 ensemble is calibrated on one validation split that none of its nets trained on (train them with the same --split-seed)", e.Message);
        Assert.False(File.Exists(path));
    }

    /// <summary>The operators ONNX Runtime's profile says ran, for one image.</summary>
    private List<(string Op, string Node)> ProfiledOperators(string path, float[] image)
    {
        using var options = new SessionOptions { EnableProfiling = true, ProfileOutputPathPrefix = _dir.Combine("profile"), IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, 1, 28, 28]);
        using var run = new RunOptions();
        using (session.Run(run, ["image"], [input], ["probabilities"]))
        {
        }

        string profile = session.EndProfiling();
        using var json = JsonDocument.Parse(File.ReadAllText(profile));
        return [.. json.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("cat").GetString() == "Node" && e.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out _))
            .Select(e => (e.GetProperty("args").GetProperty("op_name").GetString()!, e.GetProperty("name").GetString()!.Replace("_kernel_time", "", StringComparison.Ordinal)))];
    }
}
