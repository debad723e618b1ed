using Cnn.Inference;
using Cnn.Tests;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cnn.Serve.Tests;

/// <summary>A server and one Chromium (Debian's, driven by Playwright) shared by the page tests.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Debian's Chromium, or the executable CNN_CHROMIUM names (build/test-prerequisites.sh checks the same).</summary>
    public static readonly string Chromium = Environment.GetEnvironmentVariable("CNN_CHROMIUM") is { Length: > 0 } path ? path : "/usr/lib/chromium/chromium";

    private IPlaywright? _playwright;

    public TestServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests leave their screenshots: artifacts/screenshots in the repository (ignored by git).</summary>
    public string Screenshots { get; } = Path.Combine(Repository.Root, "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Screenshots);
        Server = await TestServer.StartAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>The explorer page as a person uses it: drawing with a mouse or a finger, uploading, drilling into a map.</summary>
public sealed class BrowserTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly (float X, float Y)[][] Zero = [[.. Enumerable.Range(0, 41).Select(i => (140 + (55 * MathF.Sin(i * MathF.PI / 20)), 140 - (85 * MathF.Cos(i * MathF.PI / 20))))]];
    private static readonly (float X, float Y)[][] One = [[(145, 45), (140, 140), (135, 235)]];
    private static readonly (float X, float Y)[][] Four = [[(150, 45), (75, 165), (215, 165)], [(175, 95), (175, 240)]];
    private static readonly (float X, float Y)[][] Seven = [[(75, 60), (205, 60), (125, 240)]];

    /// <summary>
    /// A grid of three lines each way: no digit. The shipped single net reads it as a 5 at 24 % (a cross, used before
    /// it, went to 92 % with the 60-epoch net: a drawing that is no digit is not bound to be read below 90 %).
    /// </summary>
    private static readonly (float X, float Y)[][] Grid =
        [[(80, 60), (80, 220)], [(140, 60), (140, 220)], [(200, 60), (200, 220)], [(60, 80), (220, 80)], [(60, 140), (220, 140)], [(60, 200), (220, 200)]];

    private async Task<(IPage Page, List<string> Errors)> OpenAsync(int width = 1280, int height = 900, bool touch = false)
    {
        var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, HasTouch = touch });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                errors.Add($"{message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => errors.Add($"page error: {error}");
        page.RequestFailed += (_, request) => errors.Add($"request failed: {request.Url} {request.Failure}");
        await page.GotoAsync(fixture.Server.BaseAddress.ToString());
        await page.WaitForSelectorAsync(".layer .tile");
        return (page, errors);
    }

    /// <summary>Draws strokes given in the pad's own 280×280 pixels, with the mouse, as a person would.</summary>
    private static async Task DrawAsync(IPage page, (float X, float Y)[][] strokes)
    {
        var box = (await page.Locator("#pad").BoundingBoxAsync())!;
        float scale = box.Width / 280;
        foreach (var stroke in strokes)
        {
            await page.Mouse.MoveAsync(box.X + (stroke[0].X * scale), box.Y + (stroke[0].Y * scale));
            await page.Mouse.DownAsync();
            foreach (var (x, y) in stroke.Skip(1))
            {
                await page.Mouse.MoveAsync(box.X + (x * scale), box.Y + (y * scale), new() { Steps = 8 });
            }

            await page.Mouse.UpAsync();
        }
    }

    /// <summary>
    /// The label shown once the answer for the latest drawing is in: the answer's region is no longer aria-busy (no
    /// request in flight, none waiting) and shows a label ('–' is "no answer").
    /// </summary>
    private static async Task<string> PredictedAsync(IPage page)
    {
        await page.WaitForFunctionAsync("() => document.getElementById('result').getAttribute('aria-busy') === 'false' && document.getElementById('label').textContent !== '–'", null, new() { Timeout = 15_000 });
        return await page.Locator("#label").InnerTextAsync();
    }

    /// <summary>
    /// Notes, inside the page, when the last stroke ends and when the answer's region stops being busy after it: the
    /// milliseconds between the two are how long a person waits for the answer.
    /// </summary>
    private static Task TimeAnswersAsync(IPage page) => page.EvaluateAsync(@"() => {
        window.cnnTest = { ended: 0, shown: 0 };
        document.getElementById('pad').addEventListener('pointerup', () => { window.cnnTest.ended = performance.now(); window.cnnTest.shown = 0; });
        new MutationObserver(() => {
            if (document.getElementById('result').getAttribute('aria-busy') === 'false' && window.cnnTest.ended && !window.cnnTest.shown) window.cnnTest.shown = performance.now();
        }).observe(document.getElementById('result'), { attributes: true, attributeFilter: ['aria-busy'] });
    }");

    private async Task ScreenshotAsync(IPage page, string name)
    {
        string path = Path.Combine(fixture.Screenshots, name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }

    public static TheoryData<string> DigitsDrawn => ["0", "1", "4", "7"];

    [Theory]
    [MemberData(nameof(DigitsDrawn))]
    public async Task A_digit_drawn_with_the_mouse_is_read_and_every_map_lights_up(string digit)
    {
        var (page, errors) = await OpenAsync();
        await TimeAnswersAsync(page);
        await DrawAsync(page, digit switch { "0" => Zero, "1" => One, "4" => Four, _ => Seven });

        Assert.Equal(digit, await PredictedAsync(page));
        output.WriteLine($"{digit}: shown {await page.EvaluateAsync<double>("window.cnnTest.shown - window.cnnTest.ended"):F1} ms after the stroke ended");
        // Every feature map tile has been painted with more than one colour, and the bars sum to about 100 %.
        int unlit = await page.EvaluateAsync<int>(@"() => [...document.querySelectorAll('.layer .grid canvas')].filter(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const colours = new Set(); for (let i = 0; i < d.length; i += 4) colours.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
            return colours.size < 2; }).length");
        int tiles = await page.Locator(".layer .grid canvas").CountAsync();
        Assert.Equal(6 + 6 + 16 + 16, tiles);
        Assert.True(unlit <= 4, $"{unlit} of {tiles} maps show a single colour");
        Assert.Equal(10, await page.Locator("#bars li").CountAsync());
        await ScreenshotAsync(page, $"explorer-drawn-{digit}.png");
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_answer_below_the_minimum_probability_asks_to_draw_again()
    {
        var (page, errors) = await OpenAsync();
        await DrawAsync(page, Seven);
        Assert.Equal("7", await PredictedAsync(page));
        Assert.DoesNotContain("unsure", await page.Locator("#answer").GetAttributeAsync("class") ?? "");
        Assert.Equal("", await page.Locator("#status").InnerTextAsync());

        await page.ClickAsync("#clear");
        Assert.Equal("–", await page.Locator("#label").InnerTextAsync());
        await DrawAsync(page, Grid);
        await PredictedAsync(page);
        float probability = float.Parse((await page.Locator("#probability").InnerTextAsync()).TrimEnd(' ', '%'), System.Globalization.CultureInfo.InvariantCulture) / 100;
        Assert.True(probability < InferenceOptions.DefaultMinProbability, $"the grid was read at {probability:P1}");
        Assert.Equal("unsure — draw again?", await page.Locator("#status").InnerTextAsync());
        Assert.Contains("unsure", await page.Locator("#answer").GetAttributeAsync("class") ?? "");
        await ScreenshotAsync(page, "explorer-unsure.png");
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Clicking_a_map_enlarges_it_beside_its_kernels_and_hover_shows_values()
    {
        var (page, errors) = await OpenAsync();
        await DrawAsync(page, Seven);
        await PredictedAsync(page);

        await page.Locator(".layer[data-layer='conv2'] .tile").Nth(3).ClickAsync();
        await page.WaitForSelectorAsync("#kernels canvas");
        Assert.Equal("conv2 · map 3", await page.Locator("#detail-title").InnerTextAsync());
        Assert.Equal(6, await page.Locator("#kernels canvas").CountAsync());
        Assert.Contains("kernels (5×5) that map 3 applies", await page.Locator("#kernel-caption").InnerTextAsync());

        await page.Locator(".layer[data-layer='pool1'] .tile").First.ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('#detail-title').textContent === 'pool1 · map 0'");
        Assert.Equal(0, await page.Locator("#kernels canvas").CountAsync());
        Assert.Contains("has no weights", await page.Locator("#kernel-caption").InnerTextAsync());

        var tile = (await page.Locator(".layer[data-layer='conv1'] .tile canvas").First.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(tile.X + (tile.Width / 2), tile.Y + (tile.Height / 2));
        Assert.Matches(@"^conv1 map 0 at \(14, 14\): -?[0-9.e+-]+$", await page.Locator("#hover").InnerTextAsync());
        // What the mouse reads is shown, not announced: a sweep over a map would queue an announcement per cell.
        Assert.Equal("off", await page.Locator("#hover").GetAttributeAsync("aria-live"));
        Assert.Equal("dialog", await page.Locator("#detail").GetAttributeAsync("role"));
        Assert.Equal("img", await page.Locator(".layer[data-layer='conv1'] .tile canvas").First.GetAttributeAsync("role"));
        await ScreenshotAsync(page, "explorer-drill-down.png");
        await page.Mouse.MoveAsync(0, 0);
        Assert.Equal("", await page.Locator("#hover").InnerTextAsync());

        // Keyboard only: Escape closes the panel and the focus goes back to the map that opened it; Tab reaches a
        // map, Enter opens it; on the enlarged map (which has a label) the arrow keys read its values.
        await page.Keyboard.PressAsync("Escape");
        Assert.True(await page.Locator("#detail").IsHiddenAsync());
        Assert.Equal("pool1 map 0: enlarge, with its kernels and values", await page.EvaluateAsync<string>("() => document.activeElement.getAttribute('aria-label')"));
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.classList.contains('tile')"));
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("#detail:not([hidden])");
        Assert.Equal("pool1 · map 1", await page.Locator("#detail-title").InnerTextAsync());
        await page.Locator("#big").FocusAsync();
        Assert.Equal("pool1 map 1, enlarged: arrow keys read its values", await page.Locator("#big").GetAttributeAsync("aria-label"));
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowDown");
        Assert.Matches(@"^pool1 map 1 at \(8, 8\): -?[0-9.e+-]+$", await page.Locator("#hover").InnerTextAsync());
        Assert.Equal("polite", await page.Locator("#hover").GetAttributeAsync("aria-live"));
        // The panel keeps the focus while open: Tab from its last control comes back to its first.
        for (int i = 0; i < 4; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            Assert.True(await page.EvaluateAsync<bool>("() => document.getElementById('detail').contains(document.activeElement)"), $"Tab {i + 1} left the panel");
        }

        await page.Locator("#big").FocusAsync();
        // Chromium sends a late mouseleave when the layout moves a map from under a resting pointer (it failed this
        // test once in CI): a map the mouse is not reading must leave the keyboard's readout alone.
        await page.Locator(".layer[data-layer='conv1'] .tile canvas").First.DispatchEventAsync("mouseleave");
        Assert.Matches(@"^pool1 map 1 at \(8, 8\): -?[0-9.e+-]+$", await page.Locator("#hover").InnerTextAsync());
        await page.Keyboard.PressAsync("Escape");
        Assert.Equal("pool1 map 1: enlarge, with its kernels and values", await page.EvaluateAsync<string>("() => document.activeElement.getAttribute('aria-label')"));

        // Closing the panel while a layer's kernels are still on their way leaves no error behind.
        // (conv1's kernels have not been fetched yet in this page: the route holds their request until the panel is closed.)
        // The route only holds the request; the test closes the panel itself (a page action awaited inside a route
        // handler could stall the handler's own dispatch, which failed this test now and then under load).
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/layers/conv1/weights", async route =>
        {
            requested.TrySetResult();
            await release.Task;
            await route.ContinueAsync();
        });
        await page.Locator(".layer[data-layer='conv1'] .tile").Nth(5).ClickAsync();
        await requested.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await page.Locator("#close-detail").ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('detail').hidden");
        release.SetResult();
        await page.Locator(".layer[data-layer='conv1'] .tile").Nth(4).ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('#detail-title').textContent === 'conv1 · map 4'");
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_uploaded_photo_is_read()
    {
        var (page, errors) = await OpenAsync();
        await page.Locator("#file").SetInputFilesAsync(new FilePayload { Name = "three.png", MimeType = "image/png", Buffer = Digits.Drawing(18, 300, 240, 120, 20, 6, noisyGrey: true) });
        Assert.Equal(Digits.Label(18).ToString(), await PredictedAsync(page));
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_finger_drawing_on_a_phone_sized_page_is_read()
    {
        var (page, errors) = await OpenAsync(390, 844, touch: true);
        var cdp = await page.Context.NewCDPSessionAsync(page);
        var box = (await page.Locator("#pad").BoundingBoxAsync())!;
        float scale = box.Width / 280;
        object Touch(float x, float y) => new[] { new { x = box.X + (x * scale), y = box.Y + (y * scale) } };
        await cdp.SendAsync("Input.dispatchTouchEvent", new() { ["type"] = "touchStart", ["touchPoints"] = Touch(145, 45) });
        for (int i = 1; i <= 20; i++)
        {
            await cdp.SendAsync("Input.dispatchTouchEvent", new() { ["type"] = "touchMove", ["touchPoints"] = Touch(145 - (i * 0.5f), 45 + (i * 9.5f)) });
        }

        await cdp.SendAsync("Input.dispatchTouchEvent", new() { ["type"] = "touchEnd", ["touchPoints"] = Array.Empty<object>() });
        Assert.Equal("1", await PredictedAsync(page));
        Assert.True(box.Width > 300, $"the pad is {box.Width} px wide on a 390-px screen");
        await ScreenshotAsync(page, "explorer-phone.png");
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }
}
