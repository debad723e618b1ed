using System.Text.Json;
using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Cli.Tests;

/// <summary>`cnn predict` and `cnn featuremaps` on the committed digits model with drawings made here.</summary>
public sealed class PredictCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Model => Repository.ModelPath;

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

        var result = Cli.Run("predict", Model, one, junk, "--json", "--sheet", sheet);

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
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
    public void Control_characters_in_file_names_are_escaped_on_the_terminal_and_in_json()
    {
        string forged = DrawOne("one\u001b[31m\u0007\n| 7 | 100 % |.png");
        string junk = _dir.Combine("bad\u202e.png");
        File.WriteAllText(junk, "not a picture");
        var shown = Cli.Run("predict", Model, forged, junk);
        Assert.Contains("one\\x1b[31m\\x07\\n| 7 | 100 % |.png → 1", shown.Stdout);
        Assert.Contains("bad\\u202e.png: not an image", shown.Stdout);
        Assert.DoesNotContain('\u001b', shown.Stdout.Replace("\u001b[", "", StringComparison.Ordinal).Replace("\u001b]", "", StringComparison.Ordinal));
        Assert.DoesNotContain('\u0007', shown.Stdout);
        Assert.DoesNotContain('\u202e', shown.Stdout);

        using var json = JsonDocument.Parse(Cli.Run("predict", Model, forged, "--json").Stdout);
        Assert.Equal(forged, json.RootElement[0].GetProperty("file").GetString());
    }

    [Fact]
    public void A_model_that_cannot_run_is_one_line_per_image_naming_the_model_and_the_node()
    {
        string broken = _dir.Combine("broken.onnx");
        File.WriteAllBytes(broken, OnnxMetadata.WithFailingReshape(File.ReadAllBytes(Model)));
        var result = Cli.Run("predict", broken, DrawOne("one.png"));
        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"error: {broken}: ONNX Runtime could not run the graph: node 'failing_reshape' (Reshape) failed: The input tensor cannot be reshaped to the requested shape. Input shape:{{1,10}}, requested shape:{{-1,3}}", line);

        // The process prints that line alone: no native log line of ONNX Runtime's, no stack trace.
        var (code, output) = ChildProcess.Run("dotnet", _dir.Path, CnnProcess.Dll, "predict", broken, DrawOne("two.png"));
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {broken}: ONNX Runtime could not run the graph: node 'failing_reshape' (Reshape) failed: ", output);
        Assert.DoesNotContain("onnxruntime:", output);
        Assert.DoesNotContain(" at ", output);
    }

    [Fact]
    public void A_device_a_pipe_and_a_folder_are_per_file_errors_and_the_valid_file_is_still_answered()
    {
        string one = DrawOne("one.png");
        string fifo = _dir.Combine("pipe.png");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var result = Cli.Run("predict", Model, "/dev/zero", fifo, _dir.Path, one, "--json");

        Assert.Equal(1, result.ExitCode);
        var items = JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal("/dev/zero: is a character device; expected a regular image file", items[0].GetProperty("error").GetString());
        Assert.Equal($"{fifo}: is a FIFO (named pipe); expected a regular image file", items[1].GetProperty("error").GetString());
        Assert.Equal($"{_dir.Path}: is a folder; expected an image file", items[2].GetProperty("error").GetString());
        Assert.Equal("1", items[3].GetProperty("label").GetString());
    }

    [Fact]
    public void A_file_over_the_size_limit_is_refused_before_it_is_read()
    {
        string big = _dir.Combine("big.png");
        using (var file = File.Create(big))
        {
            file.SetLength(400_000_001); // sparse: 8 bytes per pixel of the default 40-megapixel limit, plus one
        }

        var result = Cli.Run("predict", Model, big, "--json");
        var error = JsonDocument.Parse(result.Stdout).RootElement[0].GetProperty("error").GetString();
        Assert.Equal($"{big}: the file is 400,000,001 bytes; the limit is 320,000,000 (8 bytes per pixel of InferenceOptions.MaxImagePixels)", error);
    }

    [Fact]
    public void The_json_of_a_prediction_is_the_apis_prediction_shape()
    {
        string one = DrawOne("one.png");
        var cli = JsonDocument.Parse(Cli.Run("predict", Model, one, "--json").Stdout).RootElement[0];
        using var model = Cnn.Inference.CnnModel.Load(Model);
        var dto = Cnn.Inference.PredictionDto.From(model.Predict(model.Images.Prepare(model.Images.Decode(one)).Pixels), 3);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            dto.WriteProperties(writer);
            writer.WriteEndObject();
        }

        var api = JsonDocument.Parse(buffer.ToArray()).RootElement;
        Assert.Equal(["file", .. api.EnumerateObject().Select(p => p.Name)], cli.EnumerateObject().Select(p => p.Name));
        Assert.True(JsonElement.DeepEquals(api.GetProperty("top"), cli.GetProperty("top")), $"{api.GetProperty("top")} against {cli.GetProperty("top")}");
    }

    [Fact]
    public void Answers_below_the_minimum_probability_are_marked_unsure()
    {
        string one = DrawOne("one.png");
        var sure = JsonDocument.Parse(Cli.Run("predict", Model, one, "--json").Stdout).RootElement[0];
        Assert.Equal(sure.GetProperty("probability").GetSingle() < Cnn.Inference.InferenceOptions.DefaultMinProbability, sure.GetProperty("unsure").GetBoolean());
        Assert.False(JsonDocument.Parse(Cli.Run("predict", Model, one, "--json", "--min-probability", "0").Stdout).RootElement[0].GetProperty("unsure").GetBoolean());

        // Above any probability the net gives: unsure, and the table says so.
        var table = Cli.Run("predict", Model, one, "--min-probability", "1");
        bool certain = sure.GetProperty("probability").GetSingle() == 1f;
        Assert.Equal(!certain, table.Output.Contains("(unsure: ", StringComparison.Ordinal));

        var bad = Cli.Run("predict", Model, one, "--min-probability", "1.5");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--min-probability is 1.5; expected 0..1 (0 = never unsure)", bad.Output);
        Assert.Contains("--min-probability <P>", Cli.Run("predict", "--help").Output);
        Assert.Contains($"0 = never. Default: the model card's threshold (unsure_below), else {Cnn.Inference.InferenceOptions.DefaultMinProbability}", string.Join(' ', Cli.Run("predict", "--help").Output.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Feature_maps_are_written_as_png_grids_and_npy_arrays()
    {
        string one = DrawOne("one.png");
        string outDir = _dir.Combine("maps");

        var (code, output) = Cli.Run("featuremaps", Model, one, "--layers", "conv1,pool2", "--out", outDir);

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
        var (code, output) = Cli.Run("featuremaps", Model, DrawOne("one.png"), "--layers", "conv7");
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

        var (code, output) = Cli.Run("predict", Model, blank);

        Assert.Equal(1, code);
        Assert.Contains($"error: {blank}: no ink found", output);
    }

    [Fact]
    public void An_unreadable_image_is_one_entry_and_the_others_are_answered()
    {
        string one = DrawOne("one.png");
        string locked = _dir.Combine("locked.png");
        File.CreateSymbolicLink(locked, UnreadableFile());
        string folder = _dir.Combine("a-folder.png");
        Directory.CreateDirectory(folder);

        var result = Cli.Run("predict", Model, locked, folder, one, "--json");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var items = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, items.Count);
        Assert.Contains("locked.png", items[0].GetProperty("error").GetString());
        Assert.Equal($"{folder}: is a folder; expected an image file", items[1].GetProperty("error").GetString());
        Assert.Equal("1", items[2].GetProperty("label").GetString());
    }

    /// <summary>
    /// A file that opening for reading refuses with EACCES, even for root (the tests run as root in CI): a write-only
    /// sysfs attribute.
    /// </summary>
    private static string UnreadableFile()
    {
        foreach (var candidate in new[] { "/sys/bus/pci/rescan", "/sys/bus/platform/drivers_probe", "/sys/kernel/uevent_helper" })
        {
            try
            {
                File.OpenRead(candidate).Dispose();
            }
            catch (UnauthorizedAccessException)
            {
                return candidate;
            }
            catch (IOException)
            {
            }
        }

        throw new InvalidOperationException("no file on this machine refuses reading with EACCES; the test needs a write-only sysfs attribute");
    }

    [Fact]
    public void Json_stays_valid_when_the_sheet_cannot_be_written_and_the_error_goes_to_stderr()
    {
        string one = DrawOne("one.png");
        string sheet = _dir.Combine("no-such-folder", "sub", "sheet.png");
        File.WriteAllText(_dir.Combine("no-such-folder"), "a file where a folder should be");

        var result = Cli.Run("predict", Model, one, "--json", "--sheet", sheet);

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("1", json.RootElement[0].GetProperty("label").GetString());
        Assert.StartsWith("error: ", result.Stderr.Trim());
        Assert.DoesNotContain("error", result.Stdout);
    }

    [Fact]
    public void An_empty_layer_list_is_refused()
    {
        var result = Cli.Run("featuremaps", Model, DrawOne("one.png"), "--layers", ",", "--out", _dir.Combine("none"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--layers is ','; expected layer names such as conv1,pool1 (leave it out for all)", result.Output);
        Assert.False(Directory.Exists(_dir.Combine("none")));
    }
}

/// <summary>`cnn serve` gives the same feature maps as `cnn featuremaps` writes for the same image file.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_servers_maps_equal_the_npy_files_of_cnn_featuremaps()
    {
        string image = _dir.Combine("four.png");
        File.WriteAllBytes(image, Digits.Drawing(4, 200, 160, 50, 10, 5, noisyGrey: true));
        var cli = Cli.Run("featuremaps", Repository.ModelPath, image, "--out", _dir.Combine("maps"));
        Assert.True(cli.ExitCode == 0, cli.Output);

        await using var app = Cnn.Serve.CnnServer.Build(new Cnn.Serve.ServeOptions { ModelPaths = [Repository.ModelPath], Urls = "http://127.0.0.1:0", Quiet = true });
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var body = new ByteArrayContent(File.ReadAllBytes(image));
        body.Headers.ContentType = new("image/png");
        var response = await client.PostAsync("/v1/models/lenet5-mnist/featuremaps", body);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        foreach (var map in json.RootElement.GetProperty("maps").EnumerateObject())
        {
            var npy = File.ReadAllBytes(Path.Combine(_dir.Combine("maps"), $"{map.Name}.npy"));
            int header = 10 + BitConverter.ToUInt16(npy, 8);
            Assert.Equal(npy[header..], Convert.FromBase64String(map.Value.GetProperty("data").GetString()!));
        }

        Assert.Equal(4, json.RootElement.GetProperty("maps").EnumerateObject().Count());
        await app.StopAsync();
    }

    [Fact]
    public void Serve_options_are_checked_before_anything_starts()
    {
        var result = Cli.Run("serve", Repository.ModelPath, "--threads", "0");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--threads is 0; expected 1..256", result.Stderr);
        var unsure = Cli.Run("serve", Repository.ModelPath, "--min-probability", "-0.1");
        Assert.Equal(2, unsure.ExitCode);
        Assert.Contains("--min-probability is -0.1; expected 0..1 (0 = never unsure)", unsure.Stderr);
        var drain = Cli.Run("serve", Repository.ModelPath, "--drain", "-1");
        Assert.Equal(2, drain.ExitCode);
        Assert.Contains("--drain is -1 s; expected 0..60 seconds", drain.Stderr);
        Assert.Contains("--drain is out of range; expected 0..60 seconds", Cli.Run("serve", Repository.ModelPath, "--drain", "1e300").Stderr);
        var twice = Cli.Run("serve", Repository.ModelPath, Repository.ModelPath);
        Assert.Contains("two models share a name (lenet5-mnist, lenet5-mnist)", twice.Stderr);
        var missing = Cli.Run("serve", _dir.Combine("none.onnx"), "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"model file not found: {_dir.Combine("none.onnx")}", missing.Stderr);
    }
}
