using Cnn.Contracts;

namespace Cnn.Inference;

/// <summary>How a <see cref="CnnModel"/> is loaded and how it treats images. Validated once, when a model is loaded.</summary>
public sealed record InferenceOptions
{
    /// <summary>Images above this many pixels are refused before decoding (default 40 megapixels).</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    /// <summary>
    /// Model files (and streams) larger than this many bytes are refused before they are read (default 512 MiB; the
    /// digit models are under 1 MB). A path that is not a regular file — a FIFO, a device — is refused whatever its size.
    /// </summary>
    public long MaxModelBytes { get; init; } = DefaultMaxModelBytes;

    /// <summary>The default of <see cref="MaxModelBytes"/>: 512 MiB.</summary>
    public const long DefaultMaxModelBytes = 512L << 20;

    /// <summary>ONNX Runtime intra-op threads; 0 = ONNX Runtime's default (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// A prediction whose top probability is below this is marked <see cref="Prediction.IsUnsure"/>; 0 marks none.
    /// Null (the default) takes the model's own threshold from its card (<see cref="ModelCard.UnsureBelow"/>, chosen
    /// for that model on data that did not train it), else <see cref="DefaultMinProbability"/>;
    /// <see cref="CnnModel.MinProbability"/> says which applies.
    /// </summary>
    public double? MinProbability { get; init; }

    /// <summary>
    /// The threshold for a model whose card names none: checked on the shipped digits models' validation digits
    /// photographed in six styles (docs/experiments.md), where it flags 86–87 % of the wrong answers and asks again for
    /// under 3 % of the right ones.
    /// </summary>
    public const double DefaultMinProbability = 0.9;

    /// <summary>Where to run; see <see cref="ExecutionDevice"/>.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;

    /// <summary>
    /// ONNX Runtime's own telemetry events, off by default: an embedded model does not call home unless the app says
    /// so. ONNX Runtime keeps this switch once per process, so the last model loaded decides it. Off also sets
    /// ONNX Runtime's <c>ORT_DISABLE_TELEMETRY=1</c> (unless already set) before the first model loads, which keeps its
    /// Linux and macOS builds from starting their uploader and persisting a device identifier at all.
    /// </summary>
    public bool OnnxRuntimeTelemetry { get; init; }

    /// <summary>Receives warnings, such as the CUDA fallback; default: <see cref="System.Diagnostics.Trace"/>.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Returns these options, or throws naming the first one out of range.</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public InferenceOptions Validated()
    {
        if (MaxImagePixels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImagePixels), MaxImagePixels, $"MaxImagePixels is {MaxImagePixels}; expected ≥ 1");
        }

        if (MaxModelBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxModelBytes), MaxModelBytes, $"MaxModelBytes is {MaxModelBytes}; expected ≥ 1");
        }

        if (IntraOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"IntraOpThreads is {IntraOpThreads}; expected ≥ 0 (0 = one per core)");
        }

        if (MinProbability is { } p && !(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinProbability), MinProbability, $"MinProbability is {MinProbability}; expected 0..1 (0 = never unsure)");
        }

        return Enum.IsDefined(Device)
            ? this
            : throw new ArgumentOutOfRangeException(nameof(Device), Device, $"Device is {Device}; expected Auto, Cpu or Cuda");
    }
}
