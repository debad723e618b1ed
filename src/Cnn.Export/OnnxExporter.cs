using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Train;
using Cnn.Train.Data;
using Cnn.Train.Training;
using Google.Protobuf;
using TorchSharp;
using static Cnn.Export.OnnxProto;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>
/// Writes a trained model as ONNX, from its module tree and run config. Two files: FILE.onnx with
/// <c>logits</c> and <c>probabilities</c> only — exposing intermediate tensors stops ONNX Runtime fusing Conv+ReLU,
/// and plain predictions should not pay for that — and FILE.features.onnx with every conv and pool output as well.
/// The input <c>image</c> is raw intensities in [0, 1]; the training normalisation is part of the graph. Both files
/// carry the same <see cref="ModelCard"/> (but for <see cref="ModelCard.HasFeatureOutputs"/>), whose weights digest
/// ties them together.
/// </summary>
public static class OnnxExporter
{
    public const string ProducerName = "cnn";

    /// <summary>
    /// Exports <paramref name="model"/> (weights loaded, any device) to <paramref name="modelPath"/> and its features
    /// sibling. Both files are written in full before either replaces an existing file.
    /// </summary>
    public static ExportResult Export(nn.Module<Tensor, Tensor> model, RunConfig config, RunSummary? summary, string modelPath, ExportOptions? options = null)
    {
        options = (options ?? new ExportOptions()).Validated();
        model.to(CPU);
        model.eval();
        var plan = ExportPlan.Create(model, [config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize]);
        double temperature = TemperatureOf(summary);
        var plain = BuildGraph(plan, config, temperature, withFeatures: false);
        var features = BuildGraph(plan, config, temperature, withFeatures: true);
        var card = ModelCards.Create(plan, config, summary, options, ModelCards.WeightsSha256(plain.Initializer));
        return WritePair(modelPath, plain, features, plan.Features, card, config, options);
    }

    /// <summary>
    /// Writes FILE.onnx and FILE.features.onnx from their graphs, each with the card (and its
    /// <see cref="ModelCard.HasFeatureOutputs"/>); both are written in full before either replaces an existing file.
    /// </summary>
    internal static ExportResult WritePair(string modelPath, GraphProto plain, GraphProto features, IReadOnlyList<NamedOutput> featureOutputs, ModelCard card, RunConfig config, ExportOptions options)
    {
        string featuresPath = OnnxNames.FeaturesPathFor(modelPath);
        AtomicFile.WriteAll(
        [
            (modelPath, stream => Wrap(plain, card with { HasFeatureOutputs = false }, config, options).WriteTo(stream)),
            (featuresPath, stream => Wrap(features, card with { HasFeatureOutputs = true }, config, options).WriteTo(stream)),
        ]);
        return new ExportResult(Path.GetFullPath(modelPath), Path.GetFullPath(featuresPath), featureOutputs, card);
    }

    /// <summary>Loads the run's model.pt into a fresh model and exports it.</summary>
    public static ExportResult ExportRun(RunFolder run, string modelPath, ExportOptions? options = null)
    {
        var config = run.ReadConfig();
        RunSummary? summary = File.Exists(run.File(RunFolder.SummaryFile)) ? run.ReadSummary() : null;
        using var model = run.LoadModel(config);
        return Export(model, config, summary, modelPath, options);
    }

    /// <summary>The temperature the run fitted (summary.json), or 1 for a run without one.</summary>
    internal static double TemperatureOf(RunSummary? summary) => summary?.Temperature is > 0 and var t && double.IsFinite(t) ? t : 1;

    /// <summary>
    /// The graph: normalisation, every layer in forward order, softmax of logits / <paramref name="temperature"/>;
    /// feature maps as outputs when asked.
    /// </summary>
    internal static GraphProto BuildGraph(ExportPlan plan, RunConfig config, double temperature, bool withFeatures)
    {
        var graph = new GraphProto { Name = config.Model.Name };
        graph.Input.Add(Value(OnnxNames.Input, [config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize]));
        AddNet(graph, plan, config.Normalization, config.Model.InChannels);
        AddSoftmax(graph, OnnxNames.Logits, temperature, "probabilities.", OnnxNames.Probabilities);
        if (withFeatures)
        {
            foreach (var feature in plan.Features)
            {
                graph.Output.Add(Value(feature.Name, feature.Shape));
            }
        }

        graph.Output.Add(Value(OnnxNames.Logits, plan.LogitsOutput.Shape));
        graph.Output.Add(Value(OnnxNames.Probabilities, plan.LogitsOutput.Shape));
        return graph;
    }

    /// <summary>Normalisation then every layer in forward order, from the graph input to <see cref="OnnxNames.Logits"/>.</summary>
    internal static void AddNet(GraphProto graph, ExportPlan plan, Normalization normalization, int channels)
    {
        var mean = normalization.Mean.Select(m => (float)m).ToArray();
        var std = normalization.Std.Select(s => (float)s).ToArray();
        graph.Initializer.Add(Initializer("normalization.mean", [1, channels, 1, 1], mean));
        graph.Initializer.Add(Initializer("normalization.std", [1, channels, 1, 1], std));
        graph.Node.Add(Node("Sub", "normalization.sub", [OnnxNames.Input, "normalization.mean"], "normalization.centered"));
        graph.Node.Add(Node("Div", "normalization.div", ["normalization.centered", "normalization.std"], "normalization.output"));

        string current = "normalization.output";
        for (int i = 0; i < plan.Layers.Count; i++)
        {
            if (plan.Layers[i].Kind == LayerKind.Dropout)
            {
                continue;
            }

            OnnxLayers.Add(graph, plan.Layers[i], current, plan.OutputNames[i]);
            current = plan.OutputNames[i];
        }
    }

    /// <summary>softmax(<paramref name="logits"/> / <paramref name="temperature"/>) into <paramref name="output"/>; nodes named with <paramref name="prefix"/>.</summary>
    internal static void AddSoftmax(GraphProto graph, string logits, double temperature, string prefix, string output)
    {
        string scores = logits;
        if (temperature != 1)
        {
            // Temperature scaling changes no answer, only how sure each says it is; the logits output stays the net's own.
            graph.Initializer.Add(Initializer($"{prefix}temperature", [], [(float)temperature]));
            graph.Node.Add(Node("Div", $"{prefix}scale", [logits, $"{prefix}temperature"], $"{prefix}scaled"));
            scores = $"{prefix}scaled";
        }

        graph.Node.Add(Node("Softmax", $"{prefix}softmax", [scores], output, Int("axis", 1)));
    }

    /// <summary>The file around a graph: IR and opset versions, producer, and the model card in the metadata.</summary>
    internal static ModelProto Wrap(GraphProto graph, ModelCard card, RunConfig config, ExportOptions options)
    {
        var model = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = card.Producer.Version,
            Domain = "cnn",
            ModelVersion = 1,
            DocString = $"{config.Model.Name} trained on {config.Data.Dataset} with cnn (TorchSharp); input '{OnnxNames.Input}' is float32 [N, C, H, W] in [0, 1]. The model card is JSON under '{OnnxNames.ModelCardKey}'.",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxNames.ModelCardKey, Value = card.ToJson() });
        return model;
    }
}
