using System.Text;

namespace Cnn.Inference;

/// <summary>
/// The structure of an ONNX graph read straight from the protobuf wire format: its inputs and outputs, the nodes (their
/// operator and the tensors they write) and which initializers hold external data; nothing is loaded.
/// </summary>
internal sealed record OnnxGraphStructure(
    long IrVersion,
    long Opset,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<(string Output, string Operator)> NodeOutputs,
    IReadOnlySet<string> Initializers,
    IReadOnlyList<string> ExternalFiles)
{
    /// <summary>The inputs of the node that writes each tensor, by the tensor's name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> NodeInputs { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The weight initializer of the convolution behind <paramref name="tensor"/>: the Conv that writes it, or the Conv
    /// whose output the activation writing it takes (a feature map after its ReLU); null when there is none.
    /// </summary>
    public string? ConvWeightsOf(string tensor)
    {
        string? Writer(string name) => NodeOutputs.FirstOrDefault(n => n.Output == name).Operator;
        string? source = Writer(tensor) == "Conv" ? tensor
            : Writer(tensor) is "Relu" or "LeakyRelu" or "Clip" or "Sigmoid" or "Tanh" or "BatchNormalization" && NodeInputs[tensor] is [var input, ..] && Writer(input) == "Conv" ? input
            : null;
        return source != null && NodeInputs[source] is [_, var weights, ..] && Initializers.Contains(weights) ? weights : null;
    }
}

/// <summary>Reads <see cref="OnnxGraphStructure"/> and writes graph outputs into a copy of a model's bytes.</summary>
internal static class OnnxGraphReader
{
    // onnx.proto field numbers: ModelProto ir_version = 1, opset_import = 8, graph = 7; OperatorSetIdProto domain = 1,
    // version = 2; GraphProto node = 1, initializer = 5, input = 11, output = 12; NodeProto output = 2, op_type = 4;
    // ValueInfoProto name = 1; TensorProto name = 8, data_location = 14 (1 = EXTERNAL).
    private const int ModelIrVersion = 1, ModelGraph = 7, ModelOpset = 8;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeOperator = 4;
    private const int TensorName = 8, TensorExternalData = 13, TensorDataLocation = 14;

    public static OnnxGraphStructure Read(ReadOnlySpan<byte> model, string source)
    {
        long ir = 0, opset = 0;
        var inputs = new List<string>();
        var outputs = new List<string>();
        var nodes = new List<(string, string)>();
        var nodeInputs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        var external = new List<string>();
        OnnxWire.Walk(model, source, (field, value) =>
        {
            if (field == ModelOpset)
            {
                opset = Math.Max(opset, DefaultDomainVersion(value, source));
            }
            else if (field == ModelGraph)
            {
                OnnxWire.Walk(value, source, (f, v) =>
                {
                    switch (f)
                    {
                        case GraphNode:
                            var (written, read) = Node(v, source);
                            nodes.AddRange(written);
                            foreach (var (output, _) in written)
                            {
                                nodeInputs[output] = read;
                            }

                            break;
                        case GraphInitializer:
                            var (name, location) = Initializer(v, source);
                            initializers.Add(name);
                            if (location != null)
                            {
                                external.Add(location);
                            }

                            break;
                        case GraphInput:
                            inputs.Add(OnnxWire.String(v, 1, source));
                            break;
                        case GraphOutput:
                            outputs.Add(OnnxWire.String(v, 1, source));
                            break;
                    }
                });
            }
        }, (field, number) =>
        {
            if (field == ModelIrVersion)
            {
                ir = number;
            }
        });
        return new OnnxGraphStructure(ir, opset, [.. inputs.Where(i => !initializers.Contains(i))], outputs, nodes, initializers, [.. external.Distinct()]) { NodeInputs = nodeInputs };
    }

    /// <summary>
    /// A copy of <paramref name="model"/> whose graph also outputs <paramref name="names"/>: a second <c>graph</c> field
    /// holding only those outputs is appended, which protobuf merges into the first (repeated fields concatenate), so
    /// nothing of the original is decoded or rewritten. ONNX Runtime infers their types and shapes when it loads.
    /// </summary>
    public static byte[] WithOutputs(byte[] model, IEnumerable<string> names)
    {
        var graph = new List<byte>();
        foreach (var name in names)
        {
            var info = OnnxWire.Field(1, Encoding.UTF8.GetBytes(name));
            graph.AddRange(OnnxWire.Field(GraphOutput, info));
        }

        return [.. model, .. OnnxWire.Field(ModelGraph, [.. graph])];
    }

    /// <summary>
    /// A copy of <paramref name="model"/> with one node appended, <paramref name="op"/> from <paramref name="input"/> to
    /// a new graph output <paramref name="output"/> (Softmax over the last axis of [N, classes] scores, or Identity):
    /// how another producer's class scores become this project's <c>probabilities</c> without rewriting the graph.
    /// </summary>
    public static byte[] WithNode(byte[] model, string op, string input, string output)
    {
        var node = new List<byte>();
        node.AddRange(OnnxWire.Field(1, Encoding.UTF8.GetBytes(input)));
        node.AddRange(OnnxWire.Field(NodeOutput, Encoding.UTF8.GetBytes(output)));
        node.AddRange(OnnxWire.Field(3, Encoding.UTF8.GetBytes($"cnn.{output}")));
        node.AddRange(OnnxWire.Field(NodeOperator, Encoding.UTF8.GetBytes(op)));
        if (op == "Softmax")
        {
            // AttributeProto: name = 1, i = 3, type = 20 (INT = 2). Axis 1 of [N, classes] means the same in every opset.
            byte[] axis = [.. OnnxWire.Field(1, "axis"u8.ToArray()), .. OnnxWire.Number(3, 1), .. OnnxWire.Number(20, 2)];
            node.AddRange(OnnxWire.Field(5, axis));
        }

        byte[] graph = [.. OnnxWire.Field(GraphNode, [.. node]), .. OnnxWire.Field(GraphOutput, OnnxWire.Field(1, Encoding.UTF8.GetBytes(output)))];
        return [.. model, .. OnnxWire.Field(ModelGraph, graph)];
    }

    private static long DefaultDomainVersion(ReadOnlySpan<byte> opset, string source)
    {
        string domain = "";
        long version = 0;
        OnnxWire.Walk(opset, source, (f, v) => domain = f == 1 ? Encoding.UTF8.GetString(v) : domain, (f, n) => version = f == 2 ? n : version);
        return domain is "" or "ai.onnx" ? version : 0;
    }

    private static (List<(string, string)> Written, List<string> Read) Node(ReadOnlySpan<byte> node, string source)
    {
        var outputs = new List<string>();
        var inputs = new List<string>();
        string op = "";
        OnnxWire.Walk(node, source, (f, v) =>
        {
            if (f == NodeInput)
            {
                inputs.Add(Encoding.UTF8.GetString(v));
            }
            else if (f == NodeOutput)
            {
                outputs.Add(Encoding.UTF8.GetString(v));
            }
            else if (f == NodeOperator)
            {
                op = Encoding.UTF8.GetString(v);
            }
        });
        return ([.. outputs.Where(o => o.Length > 0).Select(o => (o, op))], inputs);
    }

    /// <summary>An initializer's name, and the file holding its data when that is external (TensorProto external_data = 13: key/value entries, "location" the file).</summary>
    private static (string Name, string? Location) Initializer(ReadOnlySpan<byte> tensor, string source)
    {
        string name = "";
        bool external = false;
        string? location = null;
        OnnxWire.Walk(tensor, source, (f, v) =>
        {
            if (f == TensorName)
            {
                name = Encoding.UTF8.GetString(v);
            }
            else if (f == TensorExternalData && OnnxWire.String(v, 1, source) == "location")
            {
                location = OnnxWire.String(v, 2, source);
            }
        }, (f, n) => external |= f == TensorDataLocation && n == 1);
        return (name, external ? location ?? "" : null);
    }
}
