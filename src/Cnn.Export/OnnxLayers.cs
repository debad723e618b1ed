using Cnn.Export.Onnx;
using TorchSharp.Modules;
using static Cnn.Export.OnnxProto;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>Turns one leaf module into its ONNX node and initializers, refusing what ONNX would compute differently.</summary>
internal static class OnnxLayers
{
    public static void Add(GraphProto graph, Layer layer, string input, string output)
    {
        string p = layer.Path;
        switch (layer.Module)
        {
            case Conv2d conv:
                AddConv(graph, p, conv, input, output);
                break;
            case BatchNorm2d bn:
                AddBatchNorm(graph, p, bn, input, output);
                break;
            case ReLU:
                graph.Node.Add(Node("Relu", p, [input], output));
                break;
            case Tanh:
                graph.Node.Add(Node("Tanh", p, [input], output));
                break;
            case Sigmoid:
                graph.Node.Add(Node("Sigmoid", p, [input], output));
                break;
            case AvgPool2d avg:
                AddAveragePool(graph, p, avg, input, output);
                break;
            case MaxPool2d max:
                AddMaxPool(graph, p, max, input, output);
                break;
            case Flatten flatten:
                Require(flatten.end_dim == -1, p, "Flatten", $"only end_dim -1 is exported; found {flatten.end_dim}");
                graph.Node.Add(Node("Flatten", p, [input], output, Int("axis", flatten.start_dim)));
                break;
            case Linear linear:
                AddLinear(graph, p, linear, input, output);
                break;
            default:
                throw new NotSupportedException($"module '{p}' of type {layer.Module.GetType().Name} has no ONNX mapping; supported: {ModuleTree.Supported}");
        }
    }

    private static void AddConv(GraphProto graph, string p, Conv2d conv, string input, string output)
    {
        Require(conv.padding_type == null && conv.padding_mode == TorchSharp.PaddingModes.Zeros, p, "Conv2d",
            $"only explicit zero padding is exported; found {conv.padding_type?.ToString() ?? conv.padding_mode.ToString()}");
        graph.Initializer.Add(Initializer($"{p}.weight", conv.weight!));
        var inputs = new List<string> { input, $"{p}.weight" };
        if (conv.bias is not null)
        {
            graph.Initializer.Add(Initializer($"{p}.bias", conv.bias));
            inputs.Add($"{p}.bias");
        }

        graph.Node.Add(Node("Conv", p, [.. inputs], output,
            Ints("kernel_shape", conv.kernel_size!), Ints("strides", conv.stride), Ints("pads", Pads(conv.padding, conv.kernel_size!.Length)),
            Ints("dilations", conv.dilation), Int("group", conv.groups)));
    }

    private static void AddBatchNorm(GraphProto graph, string p, BatchNorm2d bn, string input, string output)
    {
        Require(bn.running_mean is not null && bn.running_var is not null, p, "BatchNorm2d", "it has no running statistics to export");
        using (var scope = NewDisposeScope())
        {
            long c = bn.num_features;
            graph.Initializer.Add(Initializer($"{p}.weight", bn.weight is null ? ones(c) : (Tensor)bn.weight));
            graph.Initializer.Add(Initializer($"{p}.bias", bn.bias is null ? zeros(c) : (Tensor)bn.bias));
        }

        graph.Initializer.Add(Initializer($"{p}.running_mean", bn.running_mean!));
        graph.Initializer.Add(Initializer($"{p}.running_var", bn.running_var!));
        graph.Node.Add(Node("BatchNormalization", p, [input, $"{p}.weight", $"{p}.bias", $"{p}.running_mean", $"{p}.running_var"], output,
            Float("epsilon", (float)bn.eps)));
    }

    private static void AddAveragePool(GraphProto graph, string p, AvgPool2d avg, string input, string output)
    {
        Require(!avg.ceil_mode && avg.divisor_override == null, p, "AvgPool2d", "ceil_mode and divisor_override are not exported");
        graph.Node.Add(Node("AveragePool", p, [input], output, Ints("kernel_shape", avg.kernel_size), Ints("strides", avg.stride ?? avg.kernel_size),
            Ints("pads", Pads(avg.padding, avg.kernel_size.Length)), Int("count_include_pad", avg.count_include_pad ? 1 : 0)));
    }

    private static void AddMaxPool(GraphProto graph, string p, MaxPool2d max, string input, string output)
    {
        Require(!max.ceil_mode, p, "MaxPool2d", "ceil_mode is not exported");
        graph.Node.Add(Node("MaxPool", p, [input], output, Ints("kernel_shape", max.kernel_size), Ints("strides", max.stride ?? max.kernel_size),
            Ints("pads", Pads(max.padding, max.kernel_size.Length)), Ints("dilations", max.dilation ?? [.. Enumerable.Repeat(1L, max.kernel_size.Length)])));
    }

    private static void AddLinear(GraphProto graph, string p, Linear linear, string input, string output)
    {
        graph.Initializer.Add(Initializer($"{p}.weight", linear.weight));
        var inputs = new List<string> { input, $"{p}.weight" };
        if (linear.bias is not null)
        {
            graph.Initializer.Add(Initializer($"{p}.bias", linear.bias));
            inputs.Add($"{p}.bias");
        }

        graph.Node.Add(Node("Gemm", p, [.. inputs], output, Int("transB", 1)));
    }

    private static void Require(bool ok, string path, string type, string why)
    {
        if (!ok)
        {
            throw new NotSupportedException($"module '{path}' ({type}): {why}");
        }
    }
}
