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

    /// <summary>The other layout a model of another producer may take (Keras, TensorFlow): batch, rows, columns, channels.</summary>
    public const string LayoutNhwc = "NHWC";

    /// <summary>
    /// The output before softmax, [N, classes]: a single net's own logits; for an ensemble, the log of
    /// <see cref="Probabilities"/> (whose softmax gives them back).
    /// </summary>
    public const string Logits = "logits";

    /// <summary>
    /// The class probabilities, [N, classes]: softmax(logits / temperature), or for an ensemble the mean of its
    /// members' (each at its own temperature).
    /// </summary>
    public const string Probabilities = "probabilities";

    /// <summary>
    /// The prefix of every tensor of ensemble member <paramref name="index"/> (1-based) but the first, whose weights and
    /// feature maps keep their plain names (<c>conv1.weight</c>, <c>conv1</c>); each member's own logits and
    /// probabilities are <c>memberK.logits</c> and <c>memberK.probabilities</c>.
    /// </summary>
    /// <param name="index">The member's position, from 1.</param>
    /// <returns><c>member2.</c>, <c>member3.</c>, …</returns>
    public static string MemberPrefix(int index) => $"member{index}.";

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
