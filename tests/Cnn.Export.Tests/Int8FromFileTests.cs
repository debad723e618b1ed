using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Export.Quantization;
using Cnn.Tests;
using Cnn.Train.Data;
using Google.Protobuf;
using static TorchSharp.torch;

namespace Cnn.Export.Tests;

/// <summary>The int8 export of a float file whose run is gone: the run's bytes, checked data, refusals.</summary>
[Collection(TrainedRunsCollection.Name)]
public sealed class Int8FromFileTests(TrainedRuns trained) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static float[] Floats(Tensor images) => images.to_type(ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();

    private string FloatExport(string name = "model.onnx")
    {
        string path = _dir.Combine(name);
        OnnxExporter.ExportRun(trained.Runs[1.0], path);
        return path;
    }

    [Fact]
    public async Task A_float_file_quantizes_to_the_bytes_its_run_gives_and_verifies_against_that_file()
    {
        string fp32 = FloatExport();
        var file = FloatModelFile.Read(fp32);
        using var data = await file.LoadDataAsync(new DataRequest(trained.Temp("data")));
        var run = trained.Runs[1.0];
        var config = run.ReadConfig();
        Assert.Equal(config.Training.SplitSeed, file.Training.SplitSeed);
        using (var reloaded = await Datasets.ReloadAsync(config))
        {
            Assert.Equal(reloaded.Validation.Labels.data<long>().ToArray(), data.Validation.Labels.data<long>().ToArray());
        }

        // The fixture's validation split holds 60 images, under the minimum: both calibrate on its training split.
        var images = Floats(data.Train.Images);
        int count = (int)data.Train.Count;
        string fromFile = _dir.Combine("file.int8.onnx"), fromRun = _dir.Combine("run.int8.onnx");
        var result = Int8Exporter.ExportFile(file, data.Info, fromFile, images, count, "training", new ExportOptions { Opset = file.Opset });
        using (var model = run.LoadModel(config))
        {
            Int8Exporter.Export(model, config, run.ReadSummary(), fromRun, images, count, "training");
        }

        Assert.Equal(File.ReadAllBytes(fromRun), File.ReadAllBytes(fromFile));
        Assert.Equal(File.ReadAllBytes(OnnxNames.FeaturesPathFor(fromRun)), File.ReadAllBytes(OnnxNames.FeaturesPathFor(fromFile)));
        Assert.Equal(ModelCard.CurrentFormatVersion, result.Card.FormatVersion);

        // Verified against the float file by ONNX Runtime, as against the run by TorchSharp: the same maps compared.
        var report = Int8Verifier.VerifyAgainstFile(OnnxNames.FeaturesPathFor(fromFile), fp32, data.Test.Images, data.Test.Labels);
        using var runModel = new RunModel(run);
        var byRun = Int8Verifier.Verify(OnnxNames.FeaturesPathFor(fromFile), runModel, data.Test.Images, data.Test.Labels);
        Assert.True(report.Passed, $"{report.AccuracyChange} points");
        Assert.Equal(byRun.MapErrors.Keys, report.MapErrors.Keys);
        Assert.Equal(byRun.Int8Accuracy, report.Int8Accuracy);
        Assert.Equal(byRun.FloatAccuracy, report.FloatAccuracy, 2);
    }

    [Fact]
    public async Task Images_other_than_those_the_net_trained_on_are_refused()
    {
        var file = FloatModelFile.Read(FloatExport());
        string other = SyntheticMnist.Write(_dir.Combine("other-data"), trainCount: 300, testCount: 80, seed: 8);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => file.LoadDataAsync(new DataRequest(other)));

        Assert.StartsWith($"{file.Path}: was trained on images of mean ", e.Message);
        Assert.EndsWith("not the images it trained on, so its validation split cannot be found there (pass --data with the folder it was trained on)", e.Message);
    }

    [Fact]
    public async Task Files_that_cannot_be_quantized_are_refused_naming_the_file_and_why()
    {
        string fp32 = FloatExport();

        string int8 = _dir.Combine("q.int8.onnx");
        using (var data = await Datasets.ReloadAsync(trained.Runs[1.0].ReadConfig()))
        {
            Int8Exporter.ExportFile(FloatModelFile.Read(fp32), data.Info, int8, Floats(data.Train.Images), (int)data.Train.Count, "training");
        }

        Assert.Equal($"{int8}: is already quantized (QDQ); quantize the float model it was made from", Refusal(int8));

        using (var a = new RunModel(trained.Runs[1.0]))
        using (var b = new RunModel(trained.SecondSeed))
        {
            EnsembleExporter.Export([a, b], _dir.Combine("pair.onnx"), zeros(2, 1, 28, 28, ScalarType.Byte), zeros(2, ScalarType.Int64));
        }

        Assert.Equal($"{_dir.Combine("pair.onnx")}: is an ensemble of 2 nets, and its file does not record each net's validation split; quantize it from its runs (cnn export RUN RUN --int8 --out FILE)", Refusal(_dir.Combine("pair.onnx")));

        string edited = Rewrite(fp32, "edited.onnx", m => m.Graph.Node.First(n => n.OpType == "Relu").OpType = "LeakyRelu");
        Assert.StartsWith($"{edited}: node 'relu", Refusal(edited));
        Assert.Contains("is a LeakyRelu, an operator the int8 quantizer does not handle (it handles Sub, Div, Conv,", Refusal(edited));

        string bare = Rewrite(fp32, "bare.onnx", m => m.MetadataProps.Clear());
        Assert.Equal($"{bare}: has no model card; expected a float model written by `cnn export` (another producer's model has no record of its validation split to calibrate on)", Refusal(bare));

        string alone = _dir.Combine("alone.onnx");
        File.Copy(fp32, alone);
        var missing = Assert.Throws<FileNotFoundException>(() => FloatModelFile.Read(alone));
        Assert.Equal($"{_dir.Combine("alone.features.onnx")} not found; an int8 export quantizes both files of a pair, so it expects the float features file beside {alone}", missing.Message);
    }

    private static string Refusal(string path) => Assert.Throws<InvalidDataException>(() => FloatModelFile.Read(path)).Message;

    /// <summary>A copy of the pair at <paramref name="name"/> with <paramref name="edit"/> applied to both files.</summary>
    private string Rewrite(string source, string name, Action<ModelProto> edit)
    {
        string path = _dir.Combine(name);
        foreach (var (from, to) in new[] { (source, path), (OnnxNames.FeaturesPathFor(source), OnnxNames.FeaturesPathFor(path)) })
        {
            var model = OnnxFile.Read(from);
            edit(model);
            File.WriteAllBytes(to, model.ToByteArray());
        }

        return path;
    }
}
