using Cnn.Contracts;
using Cnn.Inference;
using Cnn.Tests;
using Microsoft.Playwright;

namespace Cnn.Serve.Tests;

/// <summary>
/// The explorer page on a CNN PyTorch trained and exported, described once: its layers are the graph's tensors, named
/// as PyTorch named them, and a conv map opens with the kernels found through the graph.
/// </summary>
public sealed class ForeignModelBrowserTests : IAsyncLifetime
{
    private readonly TempFolder _dir = new();
    private Microsoft.AspNetCore.Builder.WebApplication? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        string model = _dir.Combine("torch-mnist.onnx");
        File.Copy(Path.Combine(Repository.Root, "tests", "Cnn.Inference.Tests", "Foreign", "torch-mnist.onnx"), model);
        var options = new ForeignModelOptions { Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], Preprocessing = PreprocessingKind.Digit, Mean = [0.1307], Std = [0.3081] };
        ForeignModel.WriteCard(model, ForeignModel.Describe(model, options));
        _app = CnnServer.Build(new ServeOptions { ModelPaths = [model], Urls = "http://127.0.0.1:0", Quiet = true });
        await _app.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserFixture.Chromium });
    }

    public async Task DisposeAsync()
    {
        if (_browser != null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app != null)
        {
            await _app.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task The_page_draws_a_pytorch_models_tensors_and_its_conv_kernels()
    {
        var page = await (await _browser!.NewContextAsync()).NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(_app!.Urls.Single());
        await page.WaitForSelectorAsync(".layer .tile");

        var box = (await page.Locator("#pad").BoundingBoxAsync())!;
        float scale = box.Width / 280;
        await page.Mouse.MoveAsync(box.X + (75 * scale), box.Y + (60 * scale));
        await page.Mouse.DownAsync();
        foreach (var (x, y) in new[] { (205f, 60f), (125f, 240f) })
        {
            await page.Mouse.MoveAsync(box.X + (x * scale), box.Y + (y * scale), new() { Steps = 8 });
        }

        await page.Mouse.UpAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('result').getAttribute('aria-busy') === 'false' && document.getElementById('label').textContent !== '–'", null, new() { Timeout = 15_000 });

        var layers = await page.Locator(".layer").EvaluateAllAsync<string[]>("panels => panels.map(p => p.dataset.layer)");
        Assert.Equal(["/conv1/Conv_output_0", "/Relu_output_0", "/MaxPool_output_0", "/conv2/Conv_output_0", "/Relu_1_output_0", "/MaxPool_1_output_0"], layers);
        await page.Locator(".layer[data-layer='/conv2/Conv_output_0'] .tile").Nth(2).ClickAsync();
        await page.WaitForSelectorAsync("#kernels canvas");
        Assert.Equal("/conv2/Conv_output_0 · map 2", await page.Locator("#detail-title").InnerTextAsync());
        Assert.Equal(8, await page.Locator("#kernels canvas").CountAsync());
        Assert.Empty(errors);
    }
}
