using System.Diagnostics;
using Cnn.Contracts;
using Cnn.Tests;

namespace Cnn.Inference.Tests;

/// <summary>Model files that are not regular files or are too large, and graphs that load but cannot run.</summary>
public sealed class ModelFileSafetyTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_fifo_is_refused_at_once_instead_of_blocking_on_open()
    {
        string fifo = _dir.Combine("model.onnx");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
        }

        var load = Task.Run(() => Assert.Throws<InvalidModelException>(() => CnnModel.Load(fifo)));
        var e = await load.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal($"{fifo}: is a FIFO (named pipe); expected a regular .onnx file", e.Message);
    }

    [Fact]
    public void A_link_to_a_device_is_refused_not_read_until_memory_runs_out()
    {
        string link = _dir.Combine("model.onnx");
        File.CreateSymbolicLink(link, "/dev/zero");
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(link));
        Assert.Equal($"{link}: is a character device; expected a regular .onnx file", e.Message);
    }

    [Fact]
    public void A_file_or_stream_over_the_size_limit_is_refused_before_it_is_parsed()
    {
        // The plain file alone: a features sibling beside it is read under the same limit.
        string path = _dir.Combine("alone.onnx");
        File.Copy(Repository.ModelPath, path);
        long size = new FileInfo(path).Length;
        var options = new InferenceOptions { MaxModelBytes = size - 1 };
        var e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(path, options));
        Assert.Equal($"{path}: the file is {size:N0} bytes; the limit is {size - 1:N0} (InferenceOptions.MaxModelBytes)", e.Message);
        using var stream = File.OpenRead(path);
        e = Assert.Throws<InvalidModelException>(() => CnnModel.Load(stream, "upload", options));
        Assert.Equal($"upload: the stream holds over {size - 1:N0} bytes; the limit is {size - 1:N0} (InferenceOptions.MaxModelBytes)", e.Message);
        using var model = CnnModel.Load(path, new InferenceOptions { MaxModelBytes = size });
        Assert.Throws<ArgumentOutOfRangeException>(() => new InferenceOptions { MaxModelBytes = 0 }.Validated());
    }

    [Fact]
    public void A_graph_that_fails_to_run_is_one_line_naming_the_model_and_the_node()
    {
        string broken = _dir.Combine("broken.onnx");
        File.WriteAllBytes(broken, OnnxMetadata.WithFailingReshape(File.ReadAllBytes(Repository.ModelPath)));
        using var model = CnnModel.Load(broken);
        var e = Assert.Throws<ModelRunException>(() => model.Predict(Digits.Floats(0, 1)));
        Assert.StartsWith($"{broken}: ONNX Runtime could not run the graph: ", e.Message);
        Assert.Contains("failing_reshape", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ModelRunException>(() => model.PredictBatch(Digits.Floats(0, 2), 2));
    }

    [Theory]
    [InlineData("seven.png", "seven.png")]
    [InlineData("a\u001b[31mred\u0007.png", "a\\x1b[31mred\\x07.png")]
    [InlineData("two\nlines.png", "two\\nlines.png")]
    [InlineData("photo\u202egnp.exe", "photo\\u202egnp.exe")]
    [InlineData("c\u0085\u2066d", "c\\x85\\u2066d")]
    public void Display_text_escapes_controls_and_direction_marks_and_keeps_the_rest(string text, string shown) =>
        Assert.Equal(shown, DisplayText.Escape(text));
}
