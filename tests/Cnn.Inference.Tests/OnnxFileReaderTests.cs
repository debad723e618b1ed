using Cnn.Tests;

namespace Cnn.Inference.Tests;

/// <summary>
/// The library reads metadata and kernels straight from the protobuf wire format, so the package needs no protobuf
/// dependency; these check it against ONNX's own schema (onnx.proto compiled by protoc) on every shipped file.
/// </summary>
public sealed class OnnxFileReaderTests
{
    public static TheoryData<string> ShippedModels =>
        [.. Directory.GetFiles(Path.Combine(Repository.Root, "models"), "*.onnx").Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(ShippedModels))]
    public void The_hand_reader_agrees_with_the_onnx_schema(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Repository.Root, "models", file));
        Assert.Equal(OnnxMetadata.Read(bytes).OrderBy(p => p.Key, StringComparer.Ordinal), OnnxFileReader.Metadata(bytes, file).OrderBy(p => p.Key, StringComparer.Ordinal));
        var initializers = OnnxMetadata.FloatInitializers(bytes);
        Assert.NotEmpty(initializers);
        foreach (var (name, dims, values) in initializers)
        {
            var read = OnnxFileReader.FloatInitializer(bytes, name, file);
            Assert.True(read != null, $"{file}: {name} not found by the hand reader");
            Assert.Equal(dims, read.Value.Dims);
            Assert.Equal(values, read.Value.Values);
        }

        Assert.Null(OnnxFileReader.FloatInitializer(bytes, "no such tensor", file));
    }
}
