using System.Security.Cryptography;
using Cnn.Contracts;

namespace Cnn.Inference;

/// <summary>What the graph of another producer's model cannot say about itself; <see cref="ForeignModel.Describe"/> takes the rest from the graph.</summary>
public sealed record ForeignModelOptions
{
    /// <summary>Class names in the order of the model's output; as many as it has classes.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>How an image file becomes its input: a handwritten digit's preprocessing, or a grey or colour resize.</summary>
    public required PreprocessingKind Preprocessing { get; init; }

    /// <summary><see cref="OnnxNames.Layout"/> or <see cref="OnnxNames.LayoutNhwc"/>; null to take it from the input's shape (channels of 1 or 3 first or last).</summary>
    public string? Layout { get; init; }

    /// <summary>The range the model's raw input intensities are in, before normalisation.</summary>
    public ValueRange Range { get; init; } = new(0, 1);

    /// <summary>Per-channel mean the model subtracts outside its graph (its producer's normalisation); null for none.</summary>
    public IReadOnlyList<double>? Mean { get; init; }

    /// <summary>Per-channel standard deviation it divides by outside its graph; null for none.</summary>
    public IReadOnlyList<double>? Std { get; init; }

    /// <summary>The output that holds the class scores; null for the graph's only output.</summary>
    public string? Output { get; init; }

    /// <summary>True when that output holds probabilities already; false (the default) for logits, which get a softmax.</summary>
    public bool OutputIsProbabilities { get; init; }

    /// <summary>Tensors to offer as feature maps (each [N, C, H, W]); null for every 4-D float tensor the graph computes.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>What the model was trained on, for people; null for "unknown".</summary>
    public string? Dataset { get; init; }

    /// <summary>Returns these options, or throws naming the first one out of range.</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ForeignModelOptions Validated()
    {
        Require(Labels is { Count: >= 2 } && Labels.All(l => !string.IsNullOrEmpty(l)), $"labels are [{string.Join(", ", Labels ?? [])}]; expected at least 2 non-empty class names");
        Require(Enum.IsDefined(Preprocessing), $"preprocessing is {Preprocessing}; expected digit, gray or color");
        Require(Layout is null or OnnxNames.Layout or OnnxNames.LayoutNhwc, $"layout is {Layout}; expected {OnnxNames.Layout} or {OnnxNames.LayoutNhwc}");
        Require(Range.Min < Range.Max, $"range is [{Range.Min}, {Range.Max}]; expected min < max");
        Require((Mean == null) == (Std == null), "mean and std go together; expected both or neither");
        Require(Std == null || Std.All(s => s > 0 && double.IsFinite(s)), $"std is [{string.Join(", ", Std ?? [])}]; expected positive numbers");
        return this;
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>
/// Describes a CNN another producer made (PyTorch's <c>torch.onnx.export</c>, Keras, …) once, so <see cref="CnnModel"/>,
/// <c>cnn predict</c> and <c>cnn serve</c> use it as they use this project's own: a model card filled in from the
/// graph and the options, checked against each other, written beside the model.
/// </summary>
public static class ForeignModel
{
    /// <summary>Where the card of a model without one inside is read from: <c>MODEL.card.json</c> beside <c>MODEL.onnx</c>.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <returns>The card's path.</returns>
    public static string CardPathFor(string modelPath) => ModelFile.SidecarPathFor(modelPath);

    /// <summary>The card of the model at <paramref name="path"/>: what the graph says, with <paramref name="options"/> for the rest.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Labels, preprocessing and what else the graph cannot say.</param>
    /// <returns>The validated card.</returns>
    /// <exception cref="InvalidModelException">The graph is not an image classifier, or contradicts an option (both are named).</exception>
    public static ModelCard Describe(string path, ForeignModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Validated();
        var graph = OnnxGraph.Inspect(path);
        var input = ImageInput(graph, path);
        string layout = options.Layout ?? LayoutOf(input, path);
        var dims = input.Shape;
        var shape = layout == OnnxNames.LayoutNhwc ? new TensorShape((int)dims[3], (int)dims[1], (int)dims[2]) : new TensorShape((int)dims[1], (int)dims[2], (int)dims[3]);
        int channels = options.Preprocessing == PreprocessingKind.Color ? 3 : 1;
        Refuse(shape.Channels != channels, $"{path}: the graph's input '{input.Name}' has {shape.Channels} channel(s) in {layout}; preprocessing {options.Preprocessing.ToString().ToLowerInvariant()} gives {channels}");
        Refuse(shape.Height < 1 || shape.Width < 1, $"{path}: the graph's input '{input.Name}' is [{string.Join(", ", dims)}]; expected a fixed height and width");
        var output = ScoreOutput(graph, options, path);
        Refuse(options.Mean != null && (options.Mean.Count != shape.Channels || options.Std!.Count != shape.Channels),
            $"{path}: mean and std have {options.Mean?.Count} and {options.Std?.Count} values; the input has {shape.Channels} channel(s)");
        return new ModelCard
        {
            FormatVersion = ModelCard.CurrentFormatVersion,
            ModelName = Path.GetFileNameWithoutExtension(path),
            Dataset = options.Dataset ?? "unknown",
            Labels = options.Labels,
            Input = new InputSpec { Name = input.Name, Layout = layout, Shape = shape, Range = options.Range },
            Normalization = new NormalizationSpec { Mean = options.Mean ?? [.. Enumerable.Repeat(0.0, shape.Channels)], Std = options.Std ?? [.. Enumerable.Repeat(1.0, shape.Channels)], InGraph = false },
            Preprocessing = options.Preprocessing,
            Output = new OutputSpec { Name = output.Name, Logits = !options.OutputIsProbabilities },
            Features = Features(graph, options, path),
            HasFeatureOutputs = false,
            WeightsSha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
            Producer = new ProducerInfo { Name = "another producer", Version = "", TrainedWith = "", Opset = (int)graph.Opset },
        }.Validated(path);
    }

    /// <summary>Writes <paramref name="card"/> beside the model (<see cref="CardPathFor"/>); an existing card is replaced only when <paramref name="overwrite"/>.</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="card">Its card, from <see cref="Describe"/>.</param>
    /// <param name="overwrite">Whether to replace a card already there.</param>
    /// <returns>The card's path.</returns>
    /// <exception cref="IOException">A card is already there and <paramref name="overwrite"/> is false.</exception>
    public static string WriteCard(string modelPath, ModelCard card, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(card);
        string path = CardPathFor(modelPath);
        if (File.Exists(path) && !overwrite)
        {
            throw new IOException($"{path} already exists; it is kept (replace it deliberately with --force)");
        }

        string temporary = path + ".tmp";
        File.WriteAllText(temporary, card.ToJson());
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    private static GraphTensor ImageInput(OnnxGraph graph, string path)
    {
        var inputs = graph.Tensors.Where(t => t.Role == TensorRole.Input).ToList();
        Refuse(inputs.Count != 1, $"{path}: the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); expected one image input");
        var input = inputs[0];
        Refuse(input.Shape.Count != 4 || input.ElementType != "Float",
            $"{path}: the graph's input '{input.Name}' is {input.ElementType} [{string.Join(", ", input.Shape)}]; expected a 4-D float image batch");
        return input;
    }

    private static string LayoutOf(GraphTensor input, string path)
    {
        bool first = input.Shape[1] is 1 or 3, last = input.Shape[3] is 1 or 3;
        Refuse(first == last, $"{path}: the input [{string.Join(", ", input.Shape)}] does not say whether channels come first or last; give the layout ({OnnxNames.Layout} or {OnnxNames.LayoutNhwc})");
        return first ? OnnxNames.Layout : OnnxNames.LayoutNhwc;
    }

    private static GraphTensor ScoreOutput(OnnxGraph graph, ForeignModelOptions options, string path)
    {
        var outputs = graph.Tensors.Where(t => t.Role == TensorRole.Output).ToList();
        Refuse(options.Output == null && outputs.Count != 1, $"{path}: the graph has {outputs.Count} outputs ({string.Join(", ", outputs.Select(o => o.Name))}); name the one with the class scores");
        var output = options.Output == null ? outputs[0] : graph.Tensors.FirstOrDefault(t => t.Name == options.Output && t.Role != TensorRole.Input);
        Refuse(output == null, $"{path}: the graph has no tensor '{options.Output}'; outputs: {string.Join(", ", outputs.Select(o => o.Name))}");
        Refuse(output!.Shape.Count != 2 || output.ElementType != "Float" || output.Shape[1] != options.Labels.Count,
            $"{path}: the graph's output '{output.Name}' is {output.ElementType} [{string.Join(", ", output.Shape)}]; {options.Labels.Count} labels expect [N, {options.Labels.Count}] class scores");
        return output;
    }

    private static IReadOnlyList<FeatureLayer> Features(OnnxGraph graph, ForeignModelOptions options, string path)
    {
        bool IsMap(GraphTensor t) => t.Role != TensorRole.Input && t.ElementType == "Float" && t.Shape.Count == 4 && t.Shape.Skip(1).All(d => d > 0);
        var wanted = options.Features?.Select(name => graph.Tensors.FirstOrDefault(t => t.Name == name && IsMap(t))
            ?? throw new InvalidModelException($"{path}: '{name}' is not a [N, C, H, W] float tensor the graph computes; the closest: {string.Join(", ", OnnxGraph.Closest(name, graph.Tensors.Where(IsMap).Select(t => t.Name)))}"))
            ?? graph.Tensors.Where(IsMap);
        return [.. wanted.Select(t => new FeatureLayer(t.Name, new TensorShape((int)t.Shape[1], (int)t.Shape[2], (int)t.Shape[3])))];
    }

    private static void Refuse(bool wrong, string message)
    {
        if (wrong)
        {
            throw new InvalidModelException(message);
        }
    }
}
