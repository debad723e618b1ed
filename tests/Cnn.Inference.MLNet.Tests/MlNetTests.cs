using Cnn.Tests;

namespace Cnn.Inference.MLNet.Tests;

public sealed class MlNetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnn-mlnet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<string> WriteDigits(int count) => Enumerable.Range(0, count).Select(i =>
    {
        string path = Path.Combine(_dir, $"{i}.png");
        File.WriteAllBytes(path, Digits.Png28(i));
        return path;
    }).ToList();

    [Theory]
    [InlineData("lenet5-mnist.features.onnx")]
    [InlineData("lenet5-handwriting.int8.features.onnx")]
    [InlineData("lenet5-mnist.int8.features.onnx")]
    public void Ml_net_pipeline_gives_the_direct_paths_predictions_and_feature_maps(string file)
    {
        var files = WriteDigits(12);
        string path = Path.Combine(Repository.Root, "models", file);
        using var model = CnnModel.Load(path);
        using var pipeline = new MlNetPipeline(path, model, ["probabilities", "conv1", "pool2"]);

        var viaMlNet = pipeline.Predict(files);
        var conv1 = pipeline.Column(files, "conv1");
        var pool2 = pipeline.Column(files, "pool2");
        for (int i = 0; i < files.Count; i++)
        {
            var pixels = Digits.Floats(i, 1);
            var direct = model.GetFeatureMaps(pixels, ["conv1", "pool2"]);
            Assert.Equal(direct.Prediction.Index, viaMlNet[i].Index);
            AssertClose(direct.Prediction.Probabilities.ToArray(), viaMlNet[i].Probabilities.ToArray());
            AssertClose(direct.Maps["conv1"].Values, conv1[i]);
            AssertClose(direct.Maps["pool2"].Values, pool2[i]);
        }

        var engine = pipeline.CreatePredictionEngine();
        var one = engine.Predict(new ImageFileInput { ImagePath = files[0] });
        AssertClose(viaMlNet[0].Probabilities.ToArray(), one.Probabilities);
    }

    [Fact]
    public void A_model_of_another_producer_is_refused_naming_the_way_it_is_read()
    {
        string path = Path.Combine(_dir, "torch.onnx");
        File.Copy(Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", "torch-nchw-opset11.onnx"), path);
        ForeignModel.WriteCard(path, ForeignModel.Describe(path, new ForeignModelOptions { Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], Preprocessing = Cnn.Contracts.PreprocessingKind.Digit }));
        using var model = CnnModel.Load(path);

        var e = Assert.Throws<NotSupportedException>(() => new MlNetPipeline(path, model));

        Assert.Equal($"{path}: a model of another producer (described by its card) is read through CnnModel, not the ML.NET pipeline", e.Message);
    }

    [Fact]
    public void Asking_the_pipeline_for_an_output_it_does_not_compute_is_an_error()
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        using var pipeline = new MlNetPipeline(Repository.ModelPath, model);
        var e = Assert.Throws<UnknownOutputException>(() => pipeline.Column(WriteDigits(1), "conv1"));
        Assert.Equal("the pipeline computes probabilities; 'conv1' is not among them", e.Message);
    }

    /// <summary>Same pixels, same ONNX file: only float rounding in the pixel scaling may differ.</summary>
    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + (1e-4 * Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
