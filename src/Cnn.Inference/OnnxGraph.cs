using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>Where a tensor sits in a graph.</summary>
public enum TensorRole
{
    /// <summary>A graph input the caller feeds.</summary>
    Input,

    /// <summary>A tensor a node writes that is not a graph output: readable by name with <see cref="CnnModel.GetTensors"/>.</summary>
    Intermediate,

    /// <summary>A graph output.</summary>
    Output,
}

/// <summary>A named tensor of an ONNX graph.</summary>
/// <param name="Name">Its name in the graph, e.g. <c>conv1</c> or <c>/conv1/Conv_output_0</c>.</param>
/// <param name="Role">Input, intermediate or output.</param>
/// <param name="Operator">The operator of the node that writes it (<c>Conv</c>, <c>Relu</c>, …); empty for an input.</param>
/// <param name="ElementType">Its element type as ONNX Runtime names it (<c>Float</c>, <c>Int64</c>, …).</param>
/// <param name="Shape">Its dimensions as ONNX Runtime infers them, -1 where a dimension is symbolic or unknown (the batch).</param>
public sealed record GraphTensor(string Name, TensorRole Role, string Operator, string ElementType, IReadOnlyList<long> Shape);

/// <summary>
/// What an ONNX file holds, read without its model card: every input, output and intermediate tensor with the operator
/// that writes it and its type and shape as ONNX Runtime infers them — for any ONNX CNN, this project's or another's.
/// </summary>
public sealed class OnnxGraph
{
    private OnnxGraph(string source, long irVersion, long opset, IReadOnlyList<GraphTensor> tensors)
    {
        Source = source;
        IrVersion = irVersion;
        Opset = opset;
        Tensors = tensors;
    }

    /// <summary>Where the graph was read from.</summary>
    public string Source { get; }

    /// <summary>The file's ONNX IR version.</summary>
    public long IrVersion { get; }

    /// <summary>The opset of the default (ai.onnx) domain.</summary>
    public long Opset { get; }

    /// <summary>Inputs first, then every tensor a node writes in graph order (intermediates and outputs).</summary>
    public IReadOnlyList<GraphTensor> Tensors { get; }

    /// <summary>Reads the graph of an ONNX file and lets ONNX Runtime infer every tensor's type and shape.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Its size limit (<see cref="InferenceOptions.MaxModelBytes"/>); null for the defaults.</param>
    /// <returns>The graph's tensors.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidModelException">It is not an ONNX file ONNX Runtime can load, is over the size limit, or an external data file it names is missing.</exception>
    public static OnnxGraph Inspect(string path, InferenceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options = (options ?? new InferenceOptions()).Validated();
        var bytes = RegularFile.ReadAll(path, options.MaxModelBytes, ".onnx file", "model file not found",
            message => new InvalidModelException(message), message => new InvalidModelException($"{message} (InferenceOptions.MaxModelBytes)"));
        var graph = OnnxGraphReader.Read(bytes, path);
        string? external = ExternalDataFolder(graph, path, fromFile: true);
        var intermediates = graph.NodeOutputs.Select(n => n.Output).Where(n => !graph.Outputs.Contains(n)).Distinct().ToList();
        var (session, _) = SessionFactory.Open(OnnxGraphReader.WithOutputs(bytes, intermediates), path, options with { Device = Contracts.ExecutionDevice.Cpu }, externalData: external);
        using (session)
        {
            var tensors = graph.Inputs.Select(i => Describe(i, TensorRole.Input, "", session.InputMetadata)).ToList();
            var written = graph.NodeOutputs.DistinctBy(n => n.Output);
            tensors.AddRange(written.Select(n => Describe(n.Output, graph.Outputs.Contains(n.Output) ? TensorRole.Output : TensorRole.Intermediate, n.Operator, session.OutputMetadata)));
            return new OnnxGraph(path, graph.IrVersion, graph.Opset, tensors);
        }
    }

    /// <summary>
    /// The folder ONNX Runtime reads the graph's external data files from (beside the model), or null when it has none;
    /// a missing file, or external data of a model read from a stream (no folder to find it in), is refused by name.
    /// </summary>
    internal static string? ExternalDataFolder(OnnxGraphStructure graph, string source, bool fromFile)
    {
        if (graph.ExternalFiles.Count == 0)
        {
            return null;
        }

        if (!fromFile)
        {
            throw new InvalidModelException($"{source}: the graph keeps its weights in external data files ({string.Join(", ", graph.ExternalFiles)}); load it from its file, beside them, not from a stream");
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(source))!;
        var missing = graph.ExternalFiles.Where(f => f.Length == 0 || !File.Exists(Path.Combine(folder, f))).ToList();
        return missing.Count == 0
            ? folder
            : throw new InvalidModelException($"{source}: the graph keeps its weights in external data files, and {string.Join(", ", missing.Select(f => f.Length == 0 ? "(unnamed)" : f))} is missing from {folder}");
    }

    /// <summary>Up to <paramref name="count"/> of <paramref name="names"/> closest to <paramref name="wanted"/> by edit distance.</summary>
    internal static IEnumerable<string> Closest(string wanted, IEnumerable<string> names, int count = 3) =>
        names.Distinct().OrderBy(n => EditDistance.Between(wanted, n)).ThenBy(n => n, StringComparer.Ordinal).Take(count);

    private static GraphTensor Describe(string name, TensorRole role, string op, IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        metadata.TryGetValue(name, out var m) && m.IsTensor
            ? new GraphTensor(name, role, op, m.ElementDataType.ToString(), [.. m.Dimensions.Select(d => (long)d)])
            : new GraphTensor(name, role, op, metadata.TryGetValue(name, out var other) ? other.OnnxValueType.ToString() : "unknown", []);
}
