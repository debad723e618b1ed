using System.Text.Json;
using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Cli.Tests;

/// <summary>`cnn predict` and `cnn featuremaps` on the committed digits model with drawings made here.</summary>
public sealed class PredictCommandTests : IDisposable
{
    private static readonly string Root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(CnnProcess.Dll)!, "../../../../../.."));
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Model => Path.Combine(Root, "models", "lenet5-digits.onnx");

    /// <summary>A dark "1" (a slanted bar) on light paper, 120×160.</summary>
    private string DrawOne(string name)
    {
        using var surface = SKSurface.Create(new SKImageInfo(120, 160));
        surface.Canvas.Clear(new SKColor(240, 238, 230));
        using var pen = new SKPaint { Color = new SKColor(25, 25, 40), StrokeWidth = 9, IsAntialias = true, StrokeCap = SKStrokeCap.Round };
        surface.Canvas.DrawLine(64, 25, 56, 135, pen);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        string path = _dir.Combine(name);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void Json_lists_label_probability_and_top_and_bad_files_are_reported_without_stopping_the_rest()
    {
        string one = DrawOne("one.png");
        string junk = _dir.Combine("junk.png");
        File.WriteAllText(junk, "not a picture");
        string sheet = _dir.Combine("sheet.png");

        var (code, output) = CnnProcess.Run(_dir.Path, "predict", Model, one, junk, "--json", "--sheet", sheet);

        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(output);
        var items = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(one, items[0].GetProperty("file").GetString());
        Assert.Equal("1", items[0].GetProperty("label").GetString());
        var top = items[0].GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        Assert.Equal(items[0].GetProperty("probability").GetSingle(), top[0].GetProperty("probability").GetSingle());
        Assert.StartsWith($"{junk}: not an image SkiaSharp can decode", items[1].GetProperty("error").GetString());

        using var bitmap = SKBitmap.Decode(sheet);
        Assert.True(bitmap.Height > 112 && bitmap.Width > 3 * 112);
        Assert.True(bitmap.Pixels.Distinct().Count() > 10, "sheet is blank");
    }

    [Fact]
    public void Feature_maps_are_written_as_png_grids_and_npy_arrays()
    {
        string one = DrawOne("one.png");
        string outDir = _dir.Combine("maps");

        var (code, output) = CnnProcess.Run(_dir.Path, "featuremaps", Model, one, "--layers", "conv1,pool2", "--out", outDir);

        Assert.True(code == 0, output);
        Assert.Contains("→ 1", output);
        Assert.Equal(["conv1.npy", "conv1.png", "input.png", "pool2.npy", "pool2.png"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order());
        using (var grid = SKBitmap.Decode(Path.Combine(outDir, "conv1.png")))
        {
            // 6 maps → a 3×2 grid of 84-px tiles (28 px × 3) plus title, labels and colour bar.
            Assert.True(grid.Width >= (3 * 84) && grid.Height >= (2 * 84), $"{grid.Width}×{grid.Height}");
            Assert.True(grid.Pixels.Distinct().Count() > 20, "grid is blank");
        }

        var npy = File.ReadAllBytes(Path.Combine(outDir, "pool2.npy"));
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], npy[..8]);
        int headerLength = BitConverter.ToUInt16(npy, 8);
        string header = System.Text.Encoding.ASCII.GetString(npy, 10, headerLength);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Contains("'descr': '<f4', 'fortran_order': False, 'shape': (16, 5, 5), ", header);
        Assert.Equal(10 + headerLength + (16 * 5 * 5 * 4), npy.Length);
    }

    [Fact]
    public void An_unknown_layer_is_named_with_the_available_ones()
    {
        var (code, output) = CnnProcess.Run(_dir.Path, "featuremaps", Model, DrawOne("one.png"), "--layers", "conv7");
        Assert.Equal(1, code);
        Assert.Contains("no feature map named 'conv7'; available: conv1, pool1, conv2, pool2", output);
    }

    [Fact]
    public void A_blank_page_is_reported()
    {
        using var surface = SKSurface.Create(new SKImageInfo(50, 50));
        surface.Canvas.Clear(SKColors.White);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        string blank = _dir.Combine("blank.png");
        File.WriteAllBytes(blank, data.ToArray());

        var (code, output) = CnnProcess.Run(_dir.Path, "predict", Model, blank);

        Assert.Equal(1, code);
        Assert.Contains($"error: {blank}: no ink found", output);
    }
}
