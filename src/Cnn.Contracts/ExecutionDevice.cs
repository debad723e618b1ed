namespace Cnn.Contracts;

/// <summary>Where a net trains or runs: the one device type of training (Cnn.Train) and inference (Cnn.Inference).</summary>
public enum ExecutionDevice
{
    /// <summary>CUDA when the natives include it and a GPU answers, else the CPU.</summary>
    Auto,

    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>CUDA. Inference falls back to the CPU with one warning when CUDA cannot be used; training refuses to start.</summary>
    Cuda,
}
