using Cnn.Contracts;
using Cnn.Export.Onnx;
using static Cnn.Export.OnnxProto;

namespace Cnn.Export;

/// <summary>
/// K nets of one architecture side by side in one graph: each member's normalisation and layers read the shared
/// input, each member's softmax (at its own temperature) gives <c>memberK.probabilities</c>, and their Mean is the
/// graph's <c>probabilities</c> (its Log the <c>logits</c>). The first member keeps its plain names, so its weights,
/// kernels and feature maps are the pair's; the others' tensors are prefixed <c>member2.</c>, <c>member3.</c>, ….
/// </summary>
/// <remarks>
/// Running the members as one wide net instead (grouped convs over K stacked copies of the input, batched MatMuls) was
/// measured slower: 3 LeNets took 88 µs at batch 1 against 72 µs side by side, because ONNX Runtime runs grouped convs
/// without its blocked NCHWc kernels (bench/Cnn.Bench profile).
/// </remarks>
internal static class EnsembleGraph
{
    public static GraphProto Build(IReadOnlyList<RunModel> members, bool withFeatures)
    {
        var first = members[0];
        var config = first.Config;
        var graph = new GraphProto { Name = $"{config.Model.Name}-ensemble-{members.Count}" };
        graph.Input.Add(Value(OnnxNames.Input, [config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize]));
        var probabilities = new List<string>();
        for (int k = 1; k <= members.Count; k++)
        {
            var m = members[k - 1];
            var net = new GraphProto();
            OnnxExporter.AddNet(net, m.Plan, m.Config.Normalization, config.Model.InChannels);
            string prefix = OnnxNames.MemberPrefix(k);
            // The first member keeps its plain names but for the logits, which are the ensemble's output.
            Rename(net, k == 1 ? n => n == OnnxNames.Logits ? prefix + n : n : n => n == OnnxNames.Input ? n : prefix + n);
            graph.Initializer.AddRange(net.Initializer);
            graph.Node.AddRange(net.Node);
            OnnxExporter.AddSoftmax(graph, prefix + OnnxNames.Logits, m.Temperature, prefix, prefix + OnnxNames.Probabilities);
            probabilities.Add(prefix + OnnxNames.Probabilities);
        }

        graph.Node.Add(Node("Mean", "ensemble.mean", [.. probabilities], OnnxNames.Probabilities));
        graph.Node.Add(Node("Log", "ensemble.log", [OnnxNames.Probabilities], OnnxNames.Logits));
        if (withFeatures)
        {
            foreach (var feature in first.Plan.Features)
            {
                graph.Output.Add(Value(feature.Name, feature.Shape));
            }
        }

        graph.Output.Add(Value(OnnxNames.Logits, first.Plan.LogitsOutput.Shape));
        graph.Output.Add(Value(OnnxNames.Probabilities, first.Plan.LogitsOutput.Shape));
        return graph;
    }

    /// <summary>Renames every tensor and node of a member's subgraph.</summary>
    private static void Rename(GraphProto net, Func<string, string> name)
    {
        foreach (var node in net.Node)
        {
            node.Name = name(node.Name);
            for (int i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = name(node.Input[i]);
            }

            for (int i = 0; i < node.Output.Count; i++)
            {
                node.Output[i] = name(node.Output[i]);
            }
        }

        foreach (var initializer in net.Initializer)
        {
            initializer.Name = name(initializer.Name);
        }
    }
}
