using Cnn.Tests;
using Microsoft.Playwright;

namespace Cnn.Serve.Tests;

/// <summary>The explorer's default model served, and one Chromium, for the styles MNIST barely has.</summary>
public sealed class DefaultModelBrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public TestServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(model: Repository.ExplorerModel);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserFixture.Chromium });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// A slashed zero, a European one and a five whose bar is a stroke of its own, drawn with the mouse on the explorer
/// page, are read right by the page's default model (trained on handwriting from outside MNIST: docs/handwriting.md).
/// </summary>
public sealed class HandwritingStylesBrowserTests(DefaultModelBrowserFixture fixture) : IClassFixture<DefaultModelBrowserFixture>
{
    private static (float X, float Y)[] Ellipse(float cx, float cy, float rx, float ry) =>
        [.. Enumerable.Range(0, 41).Select(i => (cx + (rx * MathF.Sin(i * MathF.PI / 20)), cy - (ry * MathF.Cos(i * MathF.PI / 20))))];

    /// <summary>
    /// Each style, its digit, and whether the answer must also be sure (at or above the server's --min-probability).
    /// The previous explorer model (`lenet5-mnist-distilled`) read this narrow slashed zero as 0 at 48 %, unsure; the
    /// default model reads it at 100 %. Both read this European one right but below 90 % (81 % now, 59 % before), so
    /// the page asks to draw it again: only its label is required.
    /// </summary>
    public static TheoryData<string, string, bool> Styles => new()
    {
        { "slashed zero", "0", true },
        { "European one", "1", false },
        { "two-stroke five", "5", true },
    };

    /// <summary>Each style in the pad's own 280×280 pixels, stroke by stroke as a person draws it.</summary>
    private static (float X, float Y)[][] Strokes(string style) => style switch
    {
        // A narrow ring, then a slash through it from bottom left to top right, past the ring on both ends.
        "slashed zero" => [Ellipse(140, 140, 45, 95), [(80, 250), (200, 30)]],
        // The long up-stroke from the left to the top, then straight down.
        "European one" => [[(95, 105), (125, 75), (160, 42), (160, 140), (160, 238)]],
        // The stem and the bowl in one stroke, then the top bar as a stroke of its own.
        "two-stroke five" => [[(105, 48), (100, 130), (135, 118), (172, 128), (192, 160), (188, 200), (160, 230), (120, 234), (95, 220)], [(105, 48), (195, 46)]],
        _ => throw new ArgumentException(style, nameof(style)),
    };

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task The_default_model_reads_the_style_drawn_with_the_mouse(string style, string expected, bool sure)
    {
        var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.Server.BaseAddress.ToString());
        await page.WaitForSelectorAsync(".layer .tile");
        var box = (await page.Locator("#pad").BoundingBoxAsync())!;
        float scale = box.Width / 280;
        foreach (var stroke in Strokes(style))
        {
            await page.Mouse.MoveAsync(box.X + (stroke[0].X * scale), box.Y + (stroke[0].Y * scale));
            await page.Mouse.DownAsync();
            foreach (var (x, y) in stroke.Skip(1))
            {
                await page.Mouse.MoveAsync(box.X + (x * scale), box.Y + (y * scale), new() { Steps = 8 });
            }

            await page.Mouse.UpAsync();
        }

        await page.WaitForFunctionAsync("() => document.getElementById('result').getAttribute('aria-busy') === 'false' && document.getElementById('label').textContent !== '–'", null, new() { Timeout = 15_000 });
        string label = await page.Locator("#label").InnerTextAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Repository.Root, "artifacts", "screenshots", $"style-{style.Replace(' ', '-')}.png") });
        Assert.Equal(expected, label);
        if (sure)
        {
            Assert.False(await page.EvaluateAsync<bool>("() => document.getElementById('answer').classList.contains('unsure')"), $"{style}: read as {expected} but unsure");
        }

        await context.DisposeAsync();
    }
}
