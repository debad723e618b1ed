using Cnn.Contracts;
using Cnn.Export.Onnx;
using Google.Protobuf;
using static Cnn.Export.OnnxProto;

namespace Cnn.Export.Quantization;

/// <summary>The 8-bit type of the activations: signed (S8S8 with the int8 weights, which ONNX Runtime recommends on x86) or unsigned (U8S8).</summary>
public enum ActivationType
{
    /// <summary>int8, zero point in −128…127.</summary>
    Int8,

    /// <summary>uint8, zero point in 0…255.</summary>
    UInt8,
}

/// <summary>How many scales a layer's int8 weights get.</summary>
public enum WeightScales
{
    /// <summary>One symmetric scale per output channel.</summary>
    Channel,

    /// <summary>One symmetric scale for the whole layer.</summary>
    Tensor,
}

/// <summary>The quantized form: activation type and weight scales (int8 symmetric weights, int32 biases either way).</summary>
/// <param name="Activations">The activations' 8-bit type.</param>
/// <param name="Weights">Per output channel or per layer.</param>
public sealed record QuantizationForm(ActivationType Activations = ActivationType.Int8, WeightScales Weights = WeightScales.Channel)
{
    /// <summary>"S8S8, per-channel weights" and the like, for the model card and messages.</summary>
    public override string ToString() =>
        $"{(Activations == ActivationType.Int8 ? "S8S8" : "U8S8")}, per-{(Weights == WeightScales.Channel ? "channel" : "tensor")} weights";
}

/// <summary>A tensor's calibrated range, [Min, Max] (widened to hold 0, which must be exact in 8 bits).</summary>
/// <param name="Min">The smallest value seen.</param>
/// <param name="Max">The largest value seen.</param>
public sealed record TensorRange(float Min, float Max);

/// <summary>
/// Rewrites a float graph in ONNX Runtime's QDQ form: every activation that feeds or leaves a convolution, a linear
/// layer or a max pool (<see cref="Activations"/>) passes QuantizeLinear → DequantizeLinear with its calibrated scale (signed 8 bits, per
/// tensor); weights are stored in int8 with one symmetric scale per output channel and biases in int32 (scale = the
/// input's × the weight's), each behind a DequantizeLinear. ONNX Runtime then fuses DQ → Conv → ReLU → Q into
/// QLinearConv, and the like, and runs integer kernels. The float tensors keep their names, so the named feature maps
/// stay outputs in float; the dequantized copies that the next layer reads are named NAME.dq. Average pools and a
/// convolution of one input channel stay float (<see cref="StaysFloat"/>).
/// </summary>
internal static class QdqQuantizer
{
    private const int Int8 = (int)TensorProto.Types.DataType.Int8, UInt8 = (int)TensorProto.Types.DataType.Uint8, Int32 = (int)TensorProto.Types.DataType.Int32;

    /// <summary>
    /// The activations the quantizer puts Q/DQ on, in graph order: what calibration must measure (the plain graph's,
    /// whose only outputs are the scores). Those are the input and the output (after its ReLU, which the integer kernel
    /// computes too) of every integer Conv and Gemm, and both sides of a max pool. Average pools stay float — ONNX
    /// Runtime's QLinearAveragePool took 1,712–2,325 µs per batch of 64 on LeNet-5's first pool against the float
    /// AveragePool's 282–306 µs (docs/export.md) — and so does a one-channel convolution (<see cref="StaysFloat"/>).
    /// </summary>
    public static IReadOnlyList<string> Activations(GraphProto graph)
    {
        var names = new List<string>();
        foreach (var node in graph.Node)
        {
            bool integer = (node.OpType is "Conv" or "Gemm" && !StaysFloat(graph, node)) || node.OpType == "MaxPool";
            if (integer)
            {
                var relu = graph.Node.FirstOrDefault(n => n.OpType == "Relu" && n.Input[0] == node.Output[0]);
                names.Add(node.Input[0]);
                names.Add((relu ?? node).Output[0]);
            }
        }

        // The scores stay float as they are (the logits, an output; an ensemble member's logits, which its softmax
        // reads): a Q/DQ pair after them would keep the layer from fusing and round what the Mean averages.
        return [.. names.Distinct().Where(n => graph.Output.All(o => o.Name != n) && !IsScores(n))];
    }

    private static bool IsScores(string name) => name == OnnxNames.Logits || name.EndsWith("." + OnnxNames.Logits, StringComparison.Ordinal);

    /// <summary>
    /// A QDQ copy of <paramref name="graph"/> with the activations <paramref name="ranges"/> names (those of the plain
    /// graph, so a features graph, whose maps are outputs too, computes exactly what the plain one does).
    /// </summary>
    public static GraphProto Quantize(GraphProto graph, IReadOnlyDictionary<string, TensorRange> ranges, QuantizationForm? form = null)
    {
        form ??= new QuantizationForm();
        var q = graph.Clone();
        var scales = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var name in ranges.Keys)
        {
            scales[name] = AddActivation(q, name, ranges[name], form.Activations);
        }

        foreach (var node in q.Node.Where(n => n.OpType is "Conv" or "Gemm" && !StaysFloat(q, n)).ToList())
        {
            string activation = node.Input[0].EndsWith(".dq", StringComparison.Ordinal) ? node.Input[0][..^3] : node.Input[0];
            QuantizeWeights(q, node, scales[activation], form.Weights);
        }

        return q;
    }

    /// <summary>
    /// A copy of <paramref name="graph"/> with every BatchNormalization that follows a Conv folded into the Conv's weights
    /// and bias (W·γ/√(σ²+ε), (b − μ)·γ/√(σ²+ε) + β), as inference computes it anyway: one integer convolution instead
    /// of a convolution and a float batch norm. The Conv then writes the batch norm's output tensor.
    /// </summary>
    public static GraphProto FoldBatchNorms(GraphProto graph)
    {
        var g = graph.Clone();
        foreach (var bn in g.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            var conv = g.Node.FirstOrDefault(n => n.OpType == "Conv" && n.Output[0] == bn.Input[0]);
            if (conv == null || g.Node.Count(n => n.Input.Contains(conv.Output[0])) != 1 || g.Output.Any(o => o.Name == conv.Output[0]))
            {
                continue;
            }

            float epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            float[] gamma = Floats(Find(g, bn.Input[1])), beta = Floats(Find(g, bn.Input[2])), mean = Floats(Find(g, bn.Input[3])), variance = Floats(Find(g, bn.Input[4]));
            var weight = Find(g, conv.Input[1]);
            float[] w = Floats(weight);
            int channels = gamma.Length, per = w.Length / channels;
            float[] b = conv.Input.Count > 2 ? Floats(Find(g, conv.Input[2])) : new float[channels];
            var folded = new float[w.Length];
            var bias = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                float k = gamma[c] / MathF.Sqrt(variance[c] + epsilon);
                for (int i = 0; i < per; i++)
                {
                    folded[(c * per) + i] = w[(c * per) + i] * k;
                }

                bias[c] = ((b[c] - mean[c]) * k) + beta[c];
            }

            string name = conv.Input[1];
            g.Initializer.Remove(weight);
            g.Initializer.Add(Initializer(name, [.. weight.Dims], folded));
            if (conv.Input.Count > 2)
            {
                g.Initializer.Remove(Find(g, conv.Input[2]));
            }

            g.Initializer.Add(Initializer($"{name}.folded_bias", [channels], bias));
            if (conv.Input.Count > 2)
            {
                conv.Input[2] = $"{name}.folded_bias";
            }
            else
            {
                conv.Input.Add($"{name}.folded_bias");
            }

            conv.Output[0] = bn.Output[0];
            g.Node.Remove(bn);
            foreach (var unused in bn.Input.Skip(1).Where(i => g.Node.All(n => !n.Input.Contains(i))).ToList())
            {
                g.Initializer.Remove(Find(g, unused));
            }
        }

        return g;
    }

    private static TensorProto Find(GraphProto graph, string name) => graph.Initializer.Single(t => t.Name == name);

    /// <summary>
    /// Whether <paramref name="node"/> is a convolution of one input channel (LeNet-5's first, on grey digits), which
    /// stays float: ONNX Runtime's QLinearConv has no kernel that pays for one channel — 2,065 µs against float Conv's
    /// 446 µs on LeNet-5's conv1 at batch 64 (docs/export.md) — and it is one of the cheapest layers anyway.
    /// </summary>
    internal static bool StaysFloat(GraphProto graph, NodeProto node) =>
        node.OpType == "Conv" && graph.Initializer.FirstOrDefault(t => t.Name == node.Input[1]) is { Dims.Count: 4 } weight && weight.Dims[1] == 1;

    /// <summary>Q and DQ after <paramref name="name"/>; every reader of it but the Q reads the DQ. Returns the scale.</summary>
    private static float AddActivation(GraphProto graph, string name, TensorRange range, ActivationType type)
    {
        float min = Math.Min(0, range.Min), max = Math.Max(0, range.Max);
        float scale = max > min ? (max - min) / 255f : 1f;
        graph.Initializer.Add(Initializer($"{name}.scale", [], [scale]));
        graph.Initializer.Add(type == ActivationType.Int8
            ? Integers($"{name}.zero_point", [], Int8, [(sbyte)Math.Clamp(MathF.Round(-128 - (min / scale)), -128, 127)])
            : Integers($"{name}.zero_point", [], UInt8, [(byte)Math.Clamp(MathF.Round(-min / scale), 0, 255)]));
        foreach (var reader in graph.Node)
        {
            for (int i = 0; i < reader.Input.Count; i++)
            {
                if (reader.Input[i] == name)
                {
                    reader.Input[i] = $"{name}.dq";
                }
            }
        }

        // Right after the node that writes it (a graph input, written by none, at the start).
        int at = graph.Node.ToList().FindIndex(n => n.Output.Contains(name)) + 1;
        graph.Node.Insert(at, Node("QuantizeLinear", $"{name}.quantize", [name, $"{name}.scale", $"{name}.zero_point"], $"{name}.q"));
        graph.Node.Insert(at + 1, Node("DequantizeLinear", $"{name}.dequantize", [$"{name}.q", $"{name}.scale", $"{name}.zero_point"], $"{name}.dq"));
        return scale;
    }

    /// <summary>The node's weights as int8 per output channel and its bias as int32, each behind a DequantizeLinear.</summary>
    private static void QuantizeWeights(GraphProto graph, NodeProto node, float inputScale, WeightScales form)
    {
        var weight = graph.Initializer.Single(t => t.Name == node.Input[1]);
        float[] w = Floats(weight);
        int channels = (int)weight.Dims[0], per = w.Length / channels;
        var scales = new float[channels];
        var q = new sbyte[w.Length];
        // Per tensor: every channel takes the layer's scale (still written per channel, which ONNX Runtime accepts).
        float? layerMax = form == WeightScales.Tensor ? AbsMax(w) : null;
        for (int c = 0; c < channels; c++)
        {
            float absMax = layerMax ?? AbsMax(w.AsSpan(c * per, per));
            scales[c] = absMax > 0 ? absMax / 127f : 1f;
            for (int i = 0; i < per; i++)
            {
                q[(c * per) + i] = (sbyte)Math.Clamp(MathF.Round(w[(c * per) + i] / scales[c]), -127, 127);
            }
        }

        Replace(graph, node, 1, weight.Name, Integers($"{weight.Name}.q", [.. weight.Dims], Int8, q), scales, new sbyte[channels]);
        if (node.Input.Count > 2 && graph.Initializer.SingleOrDefault(t => t.Name == node.Input[2]) is { } bias)
        {
            float[] b = Floats(bias);
            var biasScales = scales.Select(s => s * inputScale).ToArray();
            var b32 = b.Select((v, c) => (int)Math.Clamp(Math.Round(v / biasScales[c]), int.MinValue + 1, int.MaxValue)).ToArray();
            Replace(graph, node, 2, bias.Name, Integers($"{bias.Name}.q", [.. bias.Dims], Int32, b32), biasScales, new int[channels]);
        }
    }

    private static void Replace<T>(GraphProto graph, NodeProto node, int input, string name, TensorProto quantized, float[] scales, T[] zeros)
        where T : unmanaged
    {
        graph.Initializer.Remove(graph.Initializer.Single(t => t.Name == name));
        graph.Initializer.Add(quantized);
        graph.Initializer.Add(Initializer($"{name}.scale", [scales.Length], scales));
        graph.Initializer.Add(Integers($"{name}.zero_point", [zeros.Length], quantized.DataType, zeros));
        graph.Node.Insert(graph.Node.IndexOf(node), Node("DequantizeLinear", $"{name}.dequantize", [quantized.Name, $"{name}.scale", $"{name}.zero_point"], $"{name}.dq", Int("axis", 0)));
        node.Input[input] = $"{name}.dq";
    }

    private static float AbsMax(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }

    private static float[] Floats(TensorProto tensor) =>
        tensor.RawData.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];

    private static TensorProto Integers<T>(string name, long[] dims, int type, T[] values)
        where T : unmanaged
    {
        var proto = new TensorProto { Name = name, DataType = type };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return proto;
    }
}
