using Cnn.Contracts;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>A named output of the exported graph with its static shape after the batch dimension.</summary>
public sealed record NamedOutput(string Name, IReadOnlyList<long> Shape);

/// <summary>
/// The naming contract shared by the ONNX writer and the TorchSharp reference run: which tensor each layer produces,
/// which of those are feature maps (every conv, post-activation when an activation follows, and every pool), and
/// their shapes. Both sides use this one plan, so they cannot disagree on what a name means.
/// </summary>
public sealed class ExportPlan
{
    private ExportPlan(IReadOnlyList<Layer> layers, string[] outputNames, IReadOnlyList<NamedOutput> features, NamedOutput logits)
    {
        Layers = layers;
        OutputNames = outputNames;
        Features = features;
        LogitsOutput = logits;
    }

    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>Name of the tensor each layer produces (dropout passes its input through and produces none).</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Feature-map outputs in forward order, named after their modules (conv1, pool1, …), shape [C, H, W].</summary>
    public IReadOnlyList<NamedOutput> Features { get; }

    public NamedOutput LogitsOutput { get; }

    /// <summary>
    /// Builds the plan for <paramref name="model"/> taking inputs of <paramref name="inputShape"/> ([C, H, W]) and
    /// checks, on a random batch, that running the leaves in order gives the model's own forward result.
    /// </summary>
    public static ExportPlan Create(nn.Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape)
    {
        var layers = ModuleTree.Leaves(model);
        var names = NameOutputs(layers);
        var featureNames = FeatureNames(layers, names);
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var generator = new Generator(0);
        var probe = rand([2, .. inputShape], generator: generator);
        var outputs = Run(layers, names, probe);
        var expected = model.call(probe);
        string last = names[^1];
        if (!outputs[last].allclose(expected, rtol: 1e-5, atol: 1e-6))
        {
            throw new NotSupportedException(
                $"{model.GetName()}: running its modules in registration order does not reproduce its forward(); only chains of modules can be exported");
        }

        var features = featureNames.Select(n => new NamedOutput(n, outputs[n].shape.Skip(1).ToArray())).ToList();
        return new ExportPlan(layers, names, features, new NamedOutput(OnnxNames.Logits, expected.shape.Skip(1).ToArray()));
    }

    /// <summary>
    /// Runs an already normalised batch through the leaves, returning every feature output plus logits and
    /// probabilities (softmax of logits / <paramref name="temperature"/>) — the TorchSharp reference for the ONNX graph.
    /// </summary>
    public Dictionary<string, Tensor> Reference(Tensor normalized, double temperature = 1)
    {
        var all = Run(Layers, (string[])OutputNames, normalized);
        var result = Features.ToDictionary(f => f.Name, f => all[f.Name]);
        var logits = all[OutputNames[^1]];
        result[OnnxNames.Logits] = logits;
        result[OnnxNames.Probabilities] = nn.functional.softmax(temperature == 1 ? logits : logits / temperature, 1);
        return result;
    }

    private static Dictionary<string, Tensor> Run(IReadOnlyList<Layer> layers, string[] names, Tensor x)
    {
        var outputs = new Dictionary<string, Tensor>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Kind == LayerKind.Dropout)
            {
                continue;
            }

            x = layers[i].Module.call(x);
            outputs[names[i]] = x;
        }

        return outputs;
    }

    private static string[] NameOutputs(IReadOnlyList<Layer> layers)
    {
        var names = layers.Select(l => l.Path).ToArray();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Kind != LayerKind.Conv)
            {
                continue;
            }

            // The feature map a reader wants from "conv1" is what the next layer sees: after batch norm and activation.
            int end = FeatureEnd(layers, i);
            if (end != i)
            {
                names[i] = layers[i].Path + ".conv";
                names[end] = layers[i].Path;
            }
        }

        int lastReal = Array.FindLastIndex(layers.ToArray(), l => l.Kind != LayerKind.Dropout);
        names[lastReal] = OnnxNames.Logits;
        return names;
    }

    private static List<string> FeatureNames(IReadOnlyList<Layer> layers, string[] names)
    {
        var features = new List<string>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Kind is LayerKind.Conv or LayerKind.AveragePool or LayerKind.MaxPool)
            {
                features.Add(layers[i].Path);
            }
        }

        return features.Where(f => names.Contains(f)).ToList();
    }

    /// <summary>Index of the last layer that belongs to conv <paramref name="i"/>: its batch norm and activation.</summary>
    private static int FeatureEnd(IReadOnlyList<Layer> layers, int i)
    {
        int end = i;
        int j = i + 1;
        while (j < layers.Count && layers[j].Kind is LayerKind.BatchNorm or LayerKind.Dropout)
        {
            if (layers[j].Kind == LayerKind.BatchNorm)
            {
                end = j;
            }

            j++;
        }

        return j < layers.Count && layers[j].Kind == LayerKind.Activation ? j : end;
    }
}
