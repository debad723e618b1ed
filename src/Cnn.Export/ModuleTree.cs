using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>What an exported layer becomes in ONNX.</summary>
public enum LayerKind
{
    Conv,
    BatchNorm,
    Activation,
    AveragePool,
    MaxPool,
    Flatten,
    Linear,
    Dropout,
}

/// <summary>A leaf module of the model in forward order; <see cref="Path"/> is its state-dict prefix.</summary>
public sealed record Layer(string Path, nn.Module<Tensor, Tensor> Module, LayerKind Kind);

/// <summary>
/// Flattens a model into its leaf modules in registration order, which is forward order for the nets this project
/// builds (each is a chain); <see cref="ExportPlan"/> checks that claim numerically before anything is written.
/// </summary>
public static class ModuleTree
{
    public const string Supported = "Conv2d, BatchNorm2d, ReLU, Tanh, Sigmoid, AvgPool2d, MaxPool2d, Flatten, Linear, Dropout, Sequential";

    public static IReadOnlyList<Layer> Leaves(nn.Module model)
    {
        var layers = new List<Layer>();
        Walk(model, "", layers);
        if (layers.Count == 0)
        {
            throw new NotSupportedException($"{model.GetName()} has no layers to export");
        }

        return layers;
    }

    private static void Walk(nn.Module module, string prefix, List<Layer> layers)
    {
        foreach (var (name, child) in module.named_children())
        {
            string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (child is Sequential)
            {
                Walk(child, path, layers);
                continue;
            }

            LayerKind? kind = child switch
            {
                Conv2d => LayerKind.Conv,
                BatchNorm2d => LayerKind.BatchNorm,
                ReLU or Tanh or Sigmoid => LayerKind.Activation,
                AvgPool2d => LayerKind.AveragePool,
                MaxPool2d => LayerKind.MaxPool,
                Flatten => LayerKind.Flatten,
                Linear => LayerKind.Linear,
                Dropout => LayerKind.Dropout,
                _ => null,
            };
            if (kind == null || child is not nn.Module<Tensor, Tensor> leaf)
            {
                throw new NotSupportedException(
                    $"module '{path}' of type {child.GetType().Name} has no ONNX mapping; supported: {Supported}");
            }

            layers.Add(new Layer(path, leaf, kind.Value));
        }
    }
}
