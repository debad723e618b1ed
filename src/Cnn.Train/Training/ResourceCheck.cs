using System.Globalization;

namespace Cnn.Train.Training;

/// <summary>
/// Refuses, before anything is allocated, a run this machine cannot carry: a thread count far above its cores (libtorch
/// then spends its time switching threads), or a model whose weights, gradients, Adam moments and one batch's
/// activations need more memory than is available.
/// </summary>
public static class ResourceCheck
{
    /// <summary>More threads than this many per core only slow libtorch down.</summary>
    public const int MaxThreadsPerCore = 4;

    // Weights, their gradients, and Adam's two moments: four floats per parameter.
    private const int BytesPerParameter = 4 * sizeof(float);

    // Forward outputs kept for backward, their gradients, and temporaries of the same size.
    private const int BytesPerActivation = 3 * sizeof(float);

    /// <summary>Throws <see cref="ArgumentException"/> with the numbers when the run cannot fit.</summary>
    public static void Check(RunConfig config, long availableBytes = -1)
    {
        int cores = Environment.ProcessorCount;
        int threads = config.Training.Threads;
        if (threads > MaxThreadsPerCore * cores)
        {
            throw new ArgumentException(
                $"--threads is {threads}; this machine has {cores} cores, and beyond {MaxThreadsPerCore * cores} threads libtorch only slows down; expected 1..{MaxThreadsPerCore * cores}");
        }

        long parameters = config.Model.ParameterCount();
        long activations = config.Model.ActivationsPerImage() * config.Training.BatchSize;
        double need = ((double)parameters * BytesPerParameter) + ((double)activations * BytesPerActivation);
        long available = availableBytes >= 0 ? availableBytes : ProcessMemory.AvailableBytes();
        if (available > 0 && need > available)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{config.Model.Name} at width {config.Model.Width:G} has {parameters:N0} parameters ({Gb((double)parameters * BytesPerParameter)} with gradients and Adam's moments) and {Gb((double)activations * BytesPerActivation)} of activations per batch of {config.Training.BatchSize}: about {Gb(need)} in all, but {Gb(available)} is available; lower --width or --batch-size"));
        }
    }

    private static string Gb(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:F1} GB");
}
