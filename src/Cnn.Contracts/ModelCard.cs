using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cnn.Contracts;

/// <summary>
/// What an exported model is and how to feed it: labels, input, normalisation, preprocessing, feature maps, the
/// identity of the weights and who produced it. The exporter writes it as JSON under
/// <see cref="OnnxNames.ModelCardKey"/> in both files of a pair; Cnn.Inference reads and validates it once.
/// </summary>
/// <remarks>
/// The format is versioned <c>MAJOR.MINOR</c>: a reader accepts any minor version of the majors it knows (new minor
/// versions only add optional fields) and refuses a newer major version with a message saying so.
/// </remarks>
public sealed record ModelCard
{
    /// <summary>The format version this assembly writes.</summary>
    /// <remarks>
    /// 1.1 added <see cref="Deskew"/>, <see cref="Temperature"/> and <see cref="Members"/>; a 1.0 card reads as none of
    /// them. 1.2 added <see cref="UnsureBelow"/>; an older card reads as none. 1.3 added <see cref="Output"/> and
    /// the NHWC layout, for models of other producers (described by a card beside the file). 1.4 added
    /// <see cref="Quantization"/>.
    /// </remarks>
    public static readonly string CurrentFormatVersion = "1.4";

    /// <summary>The major format version this assembly reads.</summary>
    public static readonly int SupportedMajorVersion = 1;

    /// <summary>The card's format version, <c>MAJOR.MINOR</c>.</summary>
    public required string FormatVersion { get; init; }

    /// <summary>The architecture's short name, e.g. <c>lenet5</c>.</summary>
    public required string ModelName { get; init; }

    /// <summary>The data set the model was trained on, e.g. <c>digits</c>, <c>fashion-mnist</c>, <c>cifar100</c>.</summary>
    public required string Dataset { get; init; }

    /// <summary>Class names in output order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>The graph's input.</summary>
    public required InputSpec Input { get; init; }

    /// <summary>The normalisation measured on the training split.</summary>
    public required NormalizationSpec Normalization { get; init; }

    /// <summary>How an image file becomes the input.</summary>
    public required PreprocessingKind Preprocessing { get; init; }

    /// <summary>
    /// With <see cref="PreprocessingKind.Digit"/>: the model was trained on frames deskewed by Cnn.Inference's <c>MomentDeskew</c>,
    /// so every image it is given must be deskewed the same way (Cnn.Inference does it). False for cards before 1.1.
    /// </summary>
    public bool Deskew { get; init; }

    /// <summary>
    /// The graph's <c>probabilities</c> are softmax(logits / Temperature): temperature scaling fitted on the validation
    /// split so that a stated probability matches how often such answers are right. 1 when none was applied (and
    /// for cards before 1.1). The <c>logits</c> output is not divided.
    /// </summary>
    [JsonIgnore]
    public double Temperature { get; init; } = 1;

    /// <summary>
    /// <see cref="Temperature"/> as written: a card without one (format 1.0) must read as 1, and the JSON source
    /// generator would set an absent double to 0.
    /// </summary>
    [JsonInclude]
    [JsonPropertyName("temperature")]
    internal double? TemperatureJson
    {
        get => Temperature;
        init => Temperature = value ?? 1;
    }

    /// <summary>
    /// When the graph is an ensemble: the nets whose probabilities it averages, in order. The feature maps (and conv
    /// kernels) are the first member's; each member applies its own temperature, so <see cref="Temperature"/> is 1.
    /// Empty for a single net (and for cards before 1.1).
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<EnsembleMember> Members { get; init; } = [];

    /// <summary><see cref="Members"/> as written: absent in a single net's card (and in 1.0 cards), read as empty.</summary>
    [JsonInclude]
    [JsonPropertyName("members")]
    internal IReadOnlyList<EnsembleMember>? MembersJson
    {
        get => Members.Count == 0 ? null : Members;
        init => Members = value ?? [];
    }

    /// <summary>Every feature map of the pair's features file, in forward order.</summary>
    public required IReadOnlyList<FeatureLayer> Features { get; init; }

    /// <summary>Whether this file itself outputs <see cref="Features"/> (the features file) or only the predictions.</summary>
    public required bool HasFeatureOutputs { get; init; }

    /// <summary>SHA-256 (hex) of the weights, the same in both files of a pair: it ties a model to its features file.</summary>
    public required string WeightsSha256 { get; init; }

    /// <summary>Accuracy on the data set's test split when the model was exported, in [0, 1]; null if unknown.</summary>
    public double? TestAccuracy { get; init; }

    /// <summary>
    /// The probability below which this model's answer is better asked again than trusted, chosen for this model on
    /// data that did not train it (<c>cnn export --unsure-below</c>), in (0, 1]; null when none was chosen, and readers
    /// use their default. An app's own threshold (Cnn.Inference's <c>InferenceOptions.MinProbability</c>) overrides it.
    /// </summary>
    public double? UnsureBelow { get; init; }

    /// <summary>
    /// The graph's class scores when they are not this project's <see cref="OnnxNames.Probabilities"/> output: a model
    /// another producer made, described by a card beside it. Null for this project's models.
    /// </summary>
    public OutputSpec? Output { get; init; }

    /// <summary>How the weights and activations were put in 8 bits, for an int8 model (<c>cnn export --int8</c>); null for a float one.</summary>
    public QuantizationSpec? Quantization { get; init; }

    /// <summary>What wrote the file.</summary>
    public required ProducerInfo Producer { get; init; }

    /// <summary>The architecture as the training run recorded it (for people; not needed to run the model).</summary>
    public JsonElement? ModelConfig { get; init; }

    /// <summary>The training options as the run recorded them (for people; not needed to run the model).</summary>
    public JsonElement? TrainingConfig { get; init; }

    /// <summary>The card as compact JSON, the form stored in the ONNX metadata.</summary>
    /// <returns>UTF-16 JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, ModelCardJson.Default.ModelCard);

    /// <summary>Reads and validates a card.</summary>
    /// <param name="json">The card's JSON.</param>
    /// <param name="source">Names the file in error messages.</param>
    /// <returns>The validated card.</returns>
    /// <exception cref="ModelCardException">The JSON is not a card, is of an unknown major version, or is inconsistent.</exception>
    public static ModelCard FromJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        CheckVersion(json, source);
        ModelCard? card;
        try
        {
            card = JsonSerializer.Deserialize(json, ModelCardJson.Default.ModelCard);
        }
        catch (JsonException e)
        {
            throw new ModelCardException($"{source}: the model card is not valid ({e.Message})", e);
        }

        return (card ?? throw new ModelCardException($"{source}: the model card is null")).Validated(source);
    }

    /// <summary>Checks that the fields agree with each other; returns this card.</summary>
    /// <param name="source">Names the file in error messages.</param>
    /// <returns>This card.</returns>
    /// <exception cref="ModelCardException">A field is out of range or contradicts another.</exception>
    public ModelCard Validated(string source)
    {
        var errors = ModelCardRules.Check(this).ToList();
        return errors.Count == 0 ? this : throw new ModelCardException($"{source}: the model card is inconsistent: {string.Join("; ", errors)}");
    }

    /// <summary>Whether <paramref name="other"/> describes the same weights (the other file of this pair).</summary>
    /// <param name="other">Another file's card.</param>
    /// <returns>True when both were exported from the same weights.</returns>
    public bool SharesWeightsWith(ModelCard other) =>
        string.Equals(WeightsSha256, other?.WeightsSha256, StringComparison.OrdinalIgnoreCase);

    private static void CheckVersion(string json, string source)
    {
        string? version;
        try
        {
            using var document = JsonDocument.Parse(json);
            version = document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("format_version", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new ModelCardException($"{source}: the model card is not valid JSON ({e.Message})", e);
        }

        if (version == null)
        {
            throw new ModelCardException($"{source}: the model card has no format_version; expected \"{SupportedMajorVersion}.N\"");
        }

        var parts = version.Split('.');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out _))
        {
            throw new ModelCardException($"{source}: model card format_version is \"{version}\"; expected MAJOR.MINOR such as \"{CurrentFormatVersion}\"");
        }

        if (major != SupportedMajorVersion)
        {
            throw new ModelCardException(
                $"{source}: model card format {version} is not readable by this version of Cnn.Contracts, which reads {SupportedMajorVersion}.x; {(major > SupportedMajorVersion ? "update Cnn.Inference" : "re-export the model with this cnn")}");
        }
    }
}

/// <summary>The graph's input tensor.</summary>
public sealed record InputSpec
{
    /// <summary>The input's name in the graph (<see cref="OnnxNames.Input"/> in this project's models).</summary>
    public required string Name { get; init; }

    /// <summary>The memory layout: <see cref="OnnxNames.Layout"/> (NCHW) or, for another producer's model, <see cref="OnnxNames.LayoutNhwc"/>.</summary>
    public required string Layout { get; init; }

    /// <summary>Channels, height and width of one image; the batch dimension is symbolic.</summary>
    public required TensorShape Shape { get; init; }

    /// <summary>The range the raw intensities are expected in, [min, max] (normalisation happens inside the graph).</summary>
    public required ValueRange Range { get; init; }
}

/// <summary>A tensor's shape after the batch dimension: [C, H, W]. Written as a JSON array.</summary>
/// <param name="Channels">Planes.</param>
/// <param name="Height">Rows per plane.</param>
/// <param name="Width">Columns per plane.</param>
[JsonConverter(typeof(TensorShapeJsonConverter))]
public sealed record TensorShape(int Channels, int Height, int Width)
{
    /// <summary>Elements of one image: C × H × W.</summary>
    public int Length => Channels * Height * Width;

    /// <summary>The shape as <c>[C, H, W]</c>.</summary>
    /// <returns>A short text form.</returns>
    public override string ToString() => $"[{Channels}, {Height}, {Width}]";
}

/// <summary>An interval of values, written as a JSON array [min, max].</summary>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
[JsonConverter(typeof(ValueRangeJsonConverter))]
public sealed record ValueRange(float Min, float Max);

/// <summary>How an int8 model was quantized and calibrated.</summary>
public sealed record QuantizationSpec
{
    /// <summary>The graph's form: <c>QDQ</c> (QuantizeLinear / DequantizeLinear around float operators, fused by the runtime).</summary>
    public required string Format { get; init; }

    /// <summary>How the weights are stored, e.g. <c>int8, symmetric, per output channel</c>.</summary>
    public required string Weights { get; init; }

    /// <summary>How the activations are stored, e.g. <c>int8, per tensor</c>.</summary>
    public required string Activations { get; init; }

    /// <summary>How their ranges were measured, e.g. <c>min-max over 5,000 images of the validation split</c>.</summary>
    public required string Calibration { get; init; }
}

/// <summary>Which output of another producer's graph holds the class scores, and whether they are logits.</summary>
public sealed record OutputSpec
{
    /// <summary>The output's name in the graph, [N, classes].</summary>
    public required string Name { get; init; }

    /// <summary>True when the output holds logits, which the reader turns into probabilities with a softmax.</summary>
    public required bool Logits { get; init; }
}

/// <summary>Per-channel normalisation (x − mean) / std, measured on the training split.</summary>
public sealed record NormalizationSpec
{
    /// <summary>Mean raw intensity per channel.</summary>
    public required IReadOnlyList<double> Mean { get; init; }

    /// <summary>Standard deviation per channel.</summary>
    public required IReadOnlyList<double> Std { get; init; }

    /// <summary>True when the graph applies it itself, so callers pass raw intensities.</summary>
    public required bool InGraph { get; init; }
}

/// <summary>One net of an ensemble.</summary>
/// <param name="Seed">The seed it was trained with (members differ in their seeds).</param>
/// <param name="Temperature">What its logits are divided by before its softmax.</param>
/// <param name="TestAccuracy">Its own accuracy on the test split, in [0, 1]; null if unknown.</param>
public sealed record EnsembleMember(long Seed, double Temperature, double? TestAccuracy);

/// <summary>A feature-map output: its name in the graph and its shape.</summary>
/// <param name="Name">The output's name, the producing module's name (<c>conv1</c>, <c>pool2</c>).</param>
/// <param name="Shape">[C, H, W] of one image.</param>
public sealed record FeatureLayer(string Name, TensorShape Shape);

/// <summary>What wrote the file.</summary>
public sealed record ProducerInfo
{
    /// <summary>The program, <c>cnn</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The program's version.</summary>
    public required string Version { get; init; }

    /// <summary>The framework the model was trained with, e.g. <c>TorchSharp 0.107.0</c>.</summary>
    public required string TrainedWith { get; init; }

    /// <summary>The ONNX opset of the default domain.</summary>
    public required int Opset { get; init; }
}

/// <summary>How an image file is turned into the model's input.</summary>
public enum PreprocessingKind
{
    /// <summary>
    /// Handwriting to an MNIST-like 28×28: light paper inverted to white ink on black, thresholded, cropped to the ink,
    /// scaled into a 20-px box, stroke weight and centre of mass normalised, then deskewed when the card's
    /// <see cref="ModelCard.Deskew"/> says so.
    /// </summary>
    [JsonStringEnumMemberName("digit")]
    Digit,

    /// <summary>Grayscale, resized to the input size.</summary>
    [JsonStringEnumMemberName("gray")]
    Gray,

    /// <summary>RGB planes, resized to the input size.</summary>
    [JsonStringEnumMemberName("color")]
    Color,
}

/// <summary>A model card could not be read or contradicts itself; the message names the file.</summary>
public sealed class ModelCardException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    public ModelCardException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="inner">The parser's exception.</param>
    public ModelCardException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
