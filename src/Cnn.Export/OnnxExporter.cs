using System.Runtime.InteropServices;
using System.Text.Json;
using Cnn.Export.Onnx;
using Cnn.Train.Training;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>Options of an export.</summary>
public sealed record ExportOptions
{
    public const int DefaultOpset = 17;
    public const int MinOpset = 13;
    public const int MaxOpset = 21;

    /// <summary>ONNX opset of the default domain; 17 is read by every current runtime.</summary>
    public int Opset { get; init; } = DefaultOpset;

    public ExportOptions Validated() => Opset is >= MinOpset and <= MaxOpset
        ? this
        : throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"opset {Opset} is not supported; expected {MinOpset}..{MaxOpset}");

    /// <summary>The IR version that goes with the opset (ONNX's versioning table).</summary>
    public long IrVersion => Opset switch
    {
        <= 17 => 8,
        <= 19 => 9,
        _ => 10,
    };
}

/// <summary>The two files of an export and the feature maps the second one exposes.</summary>
public sealed record ExportResult(string ModelPath, string FeaturesPath, IReadOnlyList<NamedOutput> Features);

/// <summary>A run's model with trained weights and its export plan: the TorchSharp side of a verification. Owns the model: dispose it.</summary>
public sealed class RunModel : IDisposable
{
    public RunModel(RunFolder run)
    {
        Config = run.ReadConfig();
        Model = OnnxExporter.LoadModel(run, Config);
        Plan = ExportPlan.Create(Model, [Config.Model.InChannels, Config.Model.ImageSize, Config.Model.ImageSize]);
    }

    public RunConfig Config { get; }

    public nn.Module<Tensor, Tensor> Model { get; }

    public ExportPlan Plan { get; }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Writes a trained model as ONNX, from its module tree and run config. Two files: FILE.onnx with
/// <c>logits</c> and <c>probabilities</c> only — exposing intermediate tensors stops ONNX Runtime fusing Conv+ReLU,
/// and plain predictions should not pay for that — and FILE.features.onnx with every conv and pool output as well.
/// The input <c>image</c> is raw intensities in [0, 1]; the training normalisation is part of the graph.
/// </summary>
public static class OnnxExporter
{
    public const string InputName = "image";
    public const string BatchDimension = "N";
    public const string FeaturesSuffix = ".features.onnx";
    public const string ProducerName = "cnn";

    /// <summary>FILE.onnx → FILE.features.onnx.</summary>
    public static string FeaturesPathFor(string modelPath) =>
        Path.ChangeExtension(modelPath, null) + FeaturesSuffix;

    /// <summary>Exports <paramref name="model"/> (weights loaded, any device) to <paramref name="modelPath"/> and its features sibling.</summary>
    public static ExportResult Export(nn.Module<Tensor, Tensor> model, RunConfig config, RunSummary? summary, string modelPath, ExportOptions? options = null)
    {
        options = (options ?? new ExportOptions()).Validated();
        model.to(CPU);
        model.eval();
        var inputShape = new long[] { config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize };
        var plan = ExportPlan.Create(model, inputShape);
        string featuresPath = FeaturesPathFor(modelPath);
        Cnn.Train.AtomicFile.Write(modelPath, Build(plan, config, summary, options, withFeatures: false, Path.GetFileName(featuresPath)).ToByteArray());
        Cnn.Train.AtomicFile.Write(featuresPath, Build(plan, config, summary, options, withFeatures: true, Path.GetFileName(featuresPath)).ToByteArray());
        return new ExportResult(Path.GetFullPath(modelPath), Path.GetFullPath(featuresPath), plan.Features);
    }

    /// <summary>Loads the run's model.pt into a fresh model and exports it.</summary>
    public static ExportResult ExportRun(RunFolder run, string modelPath, ExportOptions? options = null)
    {
        var config = run.ReadConfig();
        RunSummary? summary = File.Exists(run.File(RunFolder.SummaryFile)) ? run.ReadSummary() : null;
        using var model = LoadModel(run, config);
        return Export(model, config, summary, modelPath, options);
    }

    /// <summary>The run's architecture with its trained weights from model.pt.</summary>
    public static nn.Module<Tensor, Tensor> LoadModel(RunFolder run, RunConfig config)
    {
        string weights = run.File(RunFolder.WeightsFile);
        if (!File.Exists(weights))
        {
            throw new FileNotFoundException($"{weights} not found; expected the weights of a finished (or checkpointed) run", weights);
        }

        var model = config.Model.Build();
        model.load(weights);
        model.eval();
        return model;
    }

    internal static ModelProto Build(ExportPlan plan, RunConfig config, RunSummary? summary, ExportOptions options, bool withFeatures, string featuresFile)
    {
        var graph = new GraphProto { Name = config.Model.Name };
        int channels = config.Model.InChannels;
        graph.Input.Add(Value(InputName, [channels, config.Model.ImageSize, config.Model.ImageSize]));

        var mean = config.Normalization.Mean.Select(m => (float)m).ToArray();
        var std = config.Normalization.Std.Select(s => (float)s).ToArray();
        graph.Initializer.Add(Initializer("normalization.mean", [1, channels, 1, 1], mean));
        graph.Initializer.Add(Initializer("normalization.std", [1, channels, 1, 1], std));
        graph.Node.Add(Node("Sub", "normalization.sub", [InputName, "normalization.mean"], "normalization.centered"));
        graph.Node.Add(Node("Div", "normalization.div", ["normalization.centered", "normalization.std"], "normalization.output"));

        string current = "normalization.output";
        for (int i = 0; i < plan.Layers.Count; i++)
        {
            var layer = plan.Layers[i];
            if (layer.Kind == LayerKind.Dropout)
            {
                continue;
            }

            string output = plan.OutputNames[i];
            AddLayer(graph, layer, current, output);
            current = output;
        }

        graph.Node.Add(Node("Softmax", "probabilities.softmax", [ExportPlan.Logits], ExportPlan.Probabilities, Int("axis", 1)));
        if (withFeatures)
        {
            foreach (var feature in plan.Features)
            {
                graph.Output.Add(Value(feature.Name, feature.Shape));
            }
        }

        graph.Output.Add(Value(ExportPlan.Logits, plan.LogitsOutput.Shape));
        graph.Output.Add(Value(ExportPlan.Probabilities, plan.LogitsOutput.Shape));

        var model = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            Domain = "cnn",
            ModelVersion = 1,
            DocString = $"{config.Model.Name} trained on {config.Data.Dataset} with cnn (TorchSharp); input '{InputName}' is float32 [N, C, H, W] in [0, 1].",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        foreach (var (key, value) in Metadata(plan, config, summary, withFeatures, featuresFile))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    /// <summary>The metadata_props every export carries; keys documented in models/README.md.</summary>
    internal static IEnumerable<(string Key, string Value)> Metadata(ExportPlan plan, RunConfig config, RunSummary? summary, bool withFeatures, string featuresFile)
    {
        var json = new JsonSerializerOptions(RunFolder.Json) { WriteIndented = false };
        yield return ("model_name", config.Model.Name);
        yield return ("dataset", config.Data.Dataset);
        yield return ("class_labels", JsonSerializer.Serialize(config.Data.ClassNames, json));
        yield return ("input_name", InputName);
        yield return ("input_layout", "NCHW");
        yield return ("input_shape", $"[N,{config.Model.InChannels},{config.Model.ImageSize},{config.Model.ImageSize}]");
        yield return ("input_range", "[0,1]");
        yield return ("normalization", JsonSerializer.Serialize(config.Normalization, json));
        yield return ("normalization_in_graph", "true");
        yield return ("feature_outputs", JsonSerializer.Serialize(withFeatures ? plan.Features.Select(f => f.Name) : [], json));
        yield return ("features_model", featuresFile);
        yield return ("test_accuracy", summary?.TestAccuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "");
        yield return ("model_config", JsonSerializer.Serialize(config.Model, json));
        yield return ("training_config", JsonSerializer.Serialize(config.Training, json));
        yield return ("producer", $"{ProducerName} {typeof(OnnxExporter).Assembly.GetName().Version}; TorchSharp {config.Versions.TorchSharp}");
    }

    private static void AddLayer(GraphProto graph, Layer layer, string input, string output)
    {
        string p = layer.Path;
        switch (layer.Module)
        {
            case Conv2d conv:
                if (conv.padding_type != null || conv.padding_mode != TorchSharp.PaddingModes.Zeros)
                {
                    throw new NotSupportedException($"module '{p}' (Conv2d): only explicit zero padding is exported; found {conv.padding_type?.ToString() ?? conv.padding_mode.ToString()}");
                }

                graph.Initializer.Add(Initializer($"{p}.weight", conv.weight!));
                var convInputs = new List<string> { input, $"{p}.weight" };
                if (conv.bias is not null)
                {
                    graph.Initializer.Add(Initializer($"{p}.bias", conv.bias));
                    convInputs.Add($"{p}.bias");
                }

                var pads = Pads(conv.padding, conv.kernel_size!.Length);
                graph.Node.Add(Node("Conv", p, [.. convInputs], output,
                    Ints("kernel_shape", conv.kernel_size), Ints("strides", conv.stride), Ints("pads", pads),
                    Ints("dilations", conv.dilation), Int("group", conv.groups)));
                break;
            case BatchNorm2d bn:
                if (bn.running_mean is null || bn.running_var is null)
                {
                    throw new NotSupportedException($"module '{p}' (BatchNorm2d) has no running statistics to export");
                }

                using (var scope = NewDisposeScope())
                {
                    long c = bn.num_features;
                    graph.Initializer.Add(Initializer($"{p}.weight", bn.weight is null ? ones(c) : (Tensor)bn.weight));
                    graph.Initializer.Add(Initializer($"{p}.bias", bn.bias is null ? zeros(c) : (Tensor)bn.bias));
                }

                graph.Initializer.Add(Initializer($"{p}.running_mean", bn.running_mean));
                graph.Initializer.Add(Initializer($"{p}.running_var", bn.running_var));
                graph.Node.Add(Node("BatchNormalization", p, [input, $"{p}.weight", $"{p}.bias", $"{p}.running_mean", $"{p}.running_var"], output,
                    Float("epsilon", (float)bn.eps)));
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
                if (avg.ceil_mode || avg.divisor_override != null)
                {
                    throw new NotSupportedException($"module '{p}' (AvgPool2d): ceil_mode and divisor_override are not exported");
                }

                graph.Node.Add(Node("AveragePool", p, [input], output, Ints("kernel_shape", avg.kernel_size), Ints("strides", avg.stride ?? avg.kernel_size),
                    Ints("pads", Pads(avg.padding, avg.kernel_size.Length)), Int("count_include_pad", avg.count_include_pad ? 1 : 0)));
                break;
            case MaxPool2d max:
                if (max.ceil_mode)
                {
                    throw new NotSupportedException($"module '{p}' (MaxPool2d): ceil_mode is not exported");
                }

                graph.Node.Add(Node("MaxPool", p, [input], output, Ints("kernel_shape", max.kernel_size), Ints("strides", max.stride ?? max.kernel_size),
                    Ints("pads", Pads(max.padding, max.kernel_size.Length)), Ints("dilations", max.dilation ?? [.. Enumerable.Repeat(1L, max.kernel_size.Length)])));
                break;
            case Flatten flatten:
                if (flatten.end_dim != -1)
                {
                    throw new NotSupportedException($"module '{p}' (Flatten): only end_dim -1 is exported; found {flatten.end_dim}");
                }

                graph.Node.Add(Node("Flatten", p, [input], output, Int("axis", flatten.start_dim)));
                break;
            case Linear linear:
                graph.Initializer.Add(Initializer($"{p}.weight", linear.weight));
                var gemmInputs = new List<string> { input, $"{p}.weight" };
                if (linear.bias is not null)
                {
                    graph.Initializer.Add(Initializer($"{p}.bias", linear.bias));
                    gemmInputs.Add($"{p}.bias");
                }

                graph.Node.Add(Node("Gemm", p, [.. gemmInputs], output, Int("transB", 1)));
                break;
            default:
                throw new NotSupportedException($"module '{p}' of type {layer.Module.GetType().Name} has no ONNX mapping; supported: {ModuleTree.Supported}");
        }
    }

    private static long[] Pads(long[]? padding, int rank)
    {
        var p = padding ?? new long[rank];
        return p.Length == 1 ? [.. Enumerable.Repeat(p[0], rank * 2)] : [.. p, .. p];
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static ValueInfoProto Value(string name, IReadOnlyList<long> shapeAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
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

    private static TensorProto Initializer(string name, Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return Initializer(name, cpu.shape, cpu.data<float>().ToArray());
    }

    private static TensorProto Initializer(string name, long[] dims, float[] values)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims);
        // raw_data is little-endian by the ONNX spec; so is every platform .NET runs this on.
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return proto;
    }
}
