using System.Net.Http.Json;
using System.Text.Json;
using Cnn.Contracts;
using Cnn.Inference;
using Cnn.Tests;

namespace Cnn.Serve.Tests;

/// <summary>A PyTorch-exported CNN, described once, served as this project's own: the API's answers equal the library's.</summary>
public sealed class ForeignModelServeTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_described_pytorch_model_is_served_with_its_tensors_as_feature_layers()
    {
        string model = _dir.Combine("torch.onnx");
        File.Copy(Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", "torch-nchw-opset11.onnx"), model);
        ForeignModel.WriteCard(model, ForeignModel.Describe(model, new ForeignModelOptions { Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], Preprocessing = PreprocessingKind.Digit }));
        await using var app = CnnServer.Build(new ServeOptions { ModelPaths = [model], Urls = "http://127.0.0.1:0", Quiet = true });
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var pixels = Digits.Floats(0, 1);
        using var library = CnnModel.Load(model);

        using var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models/torch"));
        var layers = models.RootElement.GetProperty("feature_layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()).ToList();
        Assert.Equal(["/conv1/Conv_output_0", "/Relu_output_0", "/MaxPool_output_0", "/conv2/Conv_output_0", "/Relu_1_output_0", "/MaxPool_1_output_0"], layers);
        using var predict = await client.PostAsJsonAsync("/v1/models/torch/predict", new { pixels });
        Assert.Equal(System.Net.HttpStatusCode.OK, predict.StatusCode);
        using var answer = JsonDocument.Parse(await predict.Content.ReadAsStringAsync());
        var expected = library.Predict(pixels);
        Assert.Equal(expected.Label, answer.RootElement.GetProperty("label").GetString());
        Assert.Equal(expected.Probability, answer.RootElement.GetProperty("probability").GetSingle(), 6);
        using var maps = await client.PostAsJsonAsync("/v1/models/torch/featuremaps?layers=/MaxPool_output_0", new { pixels });
        Assert.Equal(System.Net.HttpStatusCode.OK, maps.StatusCode);
        using var mapAnswer = JsonDocument.Parse(await maps.Content.ReadAsStringAsync());
        Assert.Equal([4, 12, 12], mapAnswer.RootElement.GetProperty("maps").GetProperty("/MaxPool_output_0").GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        await app.StopAsync();
    }
}
