namespace Cnn.Inference;

/// <summary>Where inference runs.</summary>
public enum ExecutionDevice
{
    /// <summary>CUDA when this build has ONNX Runtime's GPU package and a GPU answers, else CPU.</summary>
    Auto,

    Cpu,

    /// <summary>CUDA, falling back to CPU with one warning when CUDA cannot be loaded.</summary>
    Cuda,
}

/// <summary>How a <see cref="CnnModel"/> is loaded and how it treats images.</summary>
public sealed record InferenceOptions
{
    /// <summary>Images above this many pixels are refused before decoding (default 40 megapixels).</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    /// <summary>ONNX Runtime intra-op threads; 0 = ONNX Runtime's default (one per core).</summary>
    public int IntraOpThreads { get; init; }

    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;

    /// <summary>Receives warnings, such as the CUDA fallback; default: <see cref="System.Diagnostics.Trace"/>.</summary>
    public Action<string>? Warning { get; init; }
}
