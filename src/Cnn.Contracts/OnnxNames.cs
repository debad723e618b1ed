namespace Cnn.Contracts;

/// <summary>
/// The names an exported model's ONNX graph uses, written by the exporter and looked up by Cnn.Inference. Feature-map
/// outputs are named after the modules that produce them (<c>conv1</c>, <c>pool1</c>, …) and listed in the
/// <see cref="ModelCard"/>.
/// </summary>
public static class OnnxNames
{
    /// <summary>The one input: float32 [N, C, H, W], raw intensities in [0, 1].</summary>
    public const string Input = "image";

    /// <summary>The input's memory layout: batch, channels, rows, columns.</summary>
    public const string Layout = "NCHW";

    /// <summary>The output before softmax, [N, classes].</summary>
    public const string Logits = "logits";

    /// <summary>The softmax of <see cref="Logits"/>, [N, classes].</summary>
    public const string Probabilities = "probabilities";

    /// <summary>The symbolic name of the batch dimension.</summary>
    public const string BatchDimension = "N";

    /// <summary>The metadata_props key under which the model card is stored as JSON.</summary>
    public const string ModelCardKey = "cnn.model_card";

    /// <summary>The suffix of the sibling file that also outputs every feature map.</summary>
    public const string FeaturesSuffix = ".features.onnx";

    /// <summary>The features sibling of a model file: <c>FILE.onnx</c> → <c>FILE.features.onnx</c>.</summary>
    /// <param name="modelPath">The plain model's path.</param>
    /// <returns>The path of its features file, in the same folder.</returns>
    public static string FeaturesPathFor(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return Path.ChangeExtension(modelPath, null) + FeaturesSuffix;
    }

    /// <summary>Whether <paramref name="path"/> names a features file (ends in <see cref="FeaturesSuffix"/>).</summary>
    /// <param name="path">A file path.</param>
    /// <returns>True for <c>*.features.onnx</c>.</returns>
    public static bool IsFeaturesPath(string path) => path.EndsWith(FeaturesSuffix, StringComparison.Ordinal);
}
