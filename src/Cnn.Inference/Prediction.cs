namespace Cnn.Inference;

/// <summary>A class and its probability.</summary>
/// <param name="Label">The class name.</param>
/// <param name="Index">The class's position in the model's labels.</param>
/// <param name="Probability">Its softmax probability.</param>
public sealed record ClassScore(string Label, int Index, float Probability);

/// <summary>
/// The model's answer for one image: the best class, every class's probability, and whether the best is too unlikely
/// to trust (<see cref="IsUnsure"/>).
/// </summary>
/// <param name="Label">The most probable class.</param>
/// <param name="Index">Its position in <paramref name="Labels"/>.</param>
/// <param name="Probability">Its softmax probability.</param>
/// <param name="Probabilities">Every class's probability, in label order.</param>
/// <param name="Labels">The model's class names.</param>
public sealed record Prediction(string Label, int Index, float Probability, IReadOnlyList<float> Probabilities, IReadOnlyList<string> Labels)
{
    /// <summary>
    /// True when <see cref="Probability"/> is below <see cref="InferenceOptions.MinProbability"/>: the model is
    /// unsure, and an app should ask again (draw the digit again, take another photo) rather than act on the answer.
    /// </summary>
    public bool IsUnsure { get; init; }

    /// <summary>The <paramref name="k"/> most probable classes, best first (ties by index).</summary>
    /// <param name="k">How many, ≥ 1; fewer come back when the model has fewer classes.</param>
    /// <returns>The classes with their probabilities.</returns>
    public IReadOnlyList<ClassScore> Top(int k) => k < 1
        ? throw new ArgumentOutOfRangeException(nameof(k), k, "expected at least 1")
        : Probabilities
        .Select((p, i) => new ClassScore(Labels[i], i, p))
        .OrderByDescending(s => s.Probability)
        .ThenBy(s => s.Index)
        .Take(k)
        .ToList();

    internal static Prediction FromProbabilities(ReadOnlySpan<float> probabilities, IReadOnlyList<string> labels, double minProbability)
    {
        int best = 0;
        for (int i = 1; i < probabilities.Length; i++)
        {
            if (probabilities[i] > probabilities[best])
            {
                best = i;
            }
        }

        return new Prediction(labels[best], best, probabilities[best], probabilities.ToArray(), labels) { IsUnsure = probabilities[best] < minProbability };
    }
}

/// <summary>One feature map output of one image: <see cref="Channels"/> planes of <see cref="Height"/>×<see cref="Width"/>, row-major.</summary>
/// <param name="Name">The layer's name (conv1, pool1, …).</param>
/// <param name="Channels">Maps in the layer.</param>
/// <param name="Height">Rows per map.</param>
/// <param name="Width">Columns per map.</param>
/// <param name="Values">Channels × Height × Width values.</param>
public sealed record FeatureMap(string Name, int Channels, int Height, int Width, float[] Values)
{
    /// <summary>The plane of channel <paramref name="channel"/>.</summary>
    /// <param name="channel">0 ≤ channel &lt; <see cref="Channels"/>.</param>
    /// <returns>Height × Width values, row-major.</returns>
    public ReadOnlySpan<float> Channel(int channel)
    {
        if (channel < 0 || channel >= Channels)
        {
            throw new ArgumentOutOfRangeException(nameof(channel), channel, $"{Name} has channels 0..{Channels - 1}");
        }

        return Values.AsSpan(channel * Height * Width, Height * Width);
    }
}

/// <summary>Feature maps of one image with the prediction made in the same run.</summary>
/// <param name="Maps">The maps by layer name, in the order asked for.</param>
/// <param name="Prediction">The prediction of the same run.</param>
public sealed record FeatureMapSet(IReadOnlyDictionary<string, FeatureMap> Maps, Prediction Prediction);

/// <summary>The kernels of one conv layer: <see cref="OutChannels"/> × <see cref="InChannels"/> planes of <see cref="Height"/>×<see cref="Width"/>, row-major.</summary>
/// <param name="Layer">The conv layer's name (conv1, …).</param>
/// <param name="OutChannels">Maps the layer outputs: one kernel stack each.</param>
/// <param name="InChannels">Channels each kernel reads.</param>
/// <param name="Height">Kernel rows.</param>
/// <param name="Width">Kernel columns.</param>
/// <param name="Values">OutChannels × InChannels × Height × Width weights.</param>
public sealed record ConvKernels(string Layer, int OutChannels, int InChannels, int Height, int Width, float[] Values)
{
    /// <summary>The kernel that output map <paramref name="output"/> applies to input channel <paramref name="input"/>.</summary>
    /// <param name="output">0 ≤ output &lt; <see cref="OutChannels"/>.</param>
    /// <param name="input">0 ≤ input &lt; <see cref="InChannels"/>.</param>
    /// <returns>Height × Width weights, row-major.</returns>
    public ReadOnlySpan<float> Kernel(int output, int input)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(output);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(output, OutChannels);
        ArgumentOutOfRangeException.ThrowIfNegative(input);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(input, InChannels);
        int size = Height * Width;
        return Values.AsSpan(((output * InChannels) + input) * size, size);
    }
}
