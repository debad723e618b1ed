namespace Cnn.Inference;

/// <summary>A class and its probability.</summary>
public sealed record ClassScore(string Label, int Index, float Probability);

/// <summary>The model's answer for one image: the best class and every class's probability.</summary>
public sealed record Prediction(string Label, int Index, float Probability, IReadOnlyList<float> Probabilities, IReadOnlyList<string> Labels)
{
    /// <summary>The <paramref name="k"/> most probable classes, best first.</summary>
    public IReadOnlyList<ClassScore> Top(int k) => Probabilities
        .Select((p, i) => new ClassScore(Labels[i], i, p))
        .OrderByDescending(s => s.Probability)
        .ThenBy(s => s.Index)
        .Take(k)
        .ToList();

    internal static Prediction FromProbabilities(ReadOnlySpan<float> probabilities, IReadOnlyList<string> labels)
    {
        int best = 0;
        for (int i = 1; i < probabilities.Length; i++)
        {
            if (probabilities[i] > probabilities[best])
            {
                best = i;
            }
        }

        return new Prediction(labels[best], best, probabilities[best], probabilities.ToArray(), labels);
    }
}

/// <summary>One feature map output of one image: <see cref="Channels"/> planes of <see cref="Height"/>×<see cref="Width"/>, row-major.</summary>
public sealed record FeatureMap(string Name, int Channels, int Height, int Width, float[] Values)
{
    /// <summary>The plane of channel <paramref name="channel"/>.</summary>
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
public sealed record FeatureMapSet(IReadOnlyDictionary<string, FeatureMap> Maps, Prediction Prediction);
