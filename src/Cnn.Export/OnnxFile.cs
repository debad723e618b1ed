using Cnn.Export.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Export;

/// <summary>A graph input or output as declared in the file: name, element type and shape (symbolic dims by name).</summary>
public sealed record OnnxValue(string Name, string ElementType, IReadOnlyList<string> Shape)
{
    public override string ToString() => $"{Name}: {ElementType} [{string.Join(", ", Shape)}]";
}

/// <summary>Reads what an ONNX file declares, with errors that name the file.</summary>
public static class OnnxFile
{
    public static ModelProto Read(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"{path}: is a folder; expected an .onnx file");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} not found", path);
        }

        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a valid ONNX model (protobuf: {e.Message})", e);
        }

        if (model.Graph == null || model.IrVersion == 0)
        {
            throw new InvalidDataException($"{path}: not a valid ONNX model (no graph or no IR version)");
        }

        return model;
    }

    public static IReadOnlyList<OnnxValue> Inputs(ModelProto model) => model.Graph.Input.Select(Describe).ToList();

    public static IReadOnlyList<OnnxValue> Outputs(ModelProto model) => model.Graph.Output.Select(Describe).ToList();

    public static IReadOnlyDictionary<string, string> Metadata(ModelProto model) =>
        model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);

    /// <summary>An ONNX Runtime session on the CPU, with ORT's load errors turned into ones that name the file.</summary>
    public static InferenceSession OpenSession(string path, SessionOptions? options = null)
    {
        try
        {
            return options == null ? new InferenceSession(path) : new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it: {e.Message}", e);
        }
    }

    private static OnnxValue Describe(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        string type = tensor == null ? "?" : ((TensorProto.Types.DataType)tensor.ElemType).ToString().ToLowerInvariant();
        var shape = tensor?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList() ?? [];
        return new OnnxValue(value.Name, type, shape);
    }
}
