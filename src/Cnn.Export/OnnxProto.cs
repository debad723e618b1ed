using System.Runtime.InteropServices;
using Cnn.Contracts;
using Cnn.Export.Onnx;
using Google.Protobuf;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>Small builders for the ONNX messages the exporter writes.</summary>
internal static class OnnxProto
{
    public static NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A float tensor value [N, ...shapeAfterBatch] with a symbolic batch dimension.</summary>
    public static ValueInfoProto Value(string name, IReadOnlyList<long> shapeAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = OnnxNames.BatchDimension });
        foreach (var d in shapeAfterBatch)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public static TensorProto Initializer(string name, Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return Initializer(name, cpu.shape, cpu.data<float>().ToArray());
    }

    public static TensorProto Initializer(string name, long[] dims, float[] values)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims);
        // raw_data is little-endian by the ONNX spec; so is every platform .NET runs this on.
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return proto;
    }

    /// <summary>ONNX pads: begin values for every axis, then end values (PyTorch pads both ends alike).</summary>
    public static long[] Pads(long[]? padding, int rank)
    {
        var p = padding ?? new long[rank];
        return p.Length == 1 ? [.. Enumerable.Repeat(p[0], rank * 2)] : [.. p, .. p];
    }
}
