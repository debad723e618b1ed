using Cnn.Contracts;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>A session whose graph outputs the feature maps, with their names and shapes from the model card.</summary>
internal sealed class FeatureOutputs : IDisposable
{
    public FeatureOutputs(InferenceSession session, ModelCard card, bool ownsSession)
    {
        Session = session;
        OwnsSession = ownsSession;
        Shapes = card.Features.ToDictionary(f => f.Name, f => f.Shape, StringComparer.Ordinal);
        Names = [.. card.Features.Select(f => f.Name)];
    }

    public InferenceSession Session { get; }

    public IReadOnlyDictionary<string, TensorShape> Shapes { get; }

    public IReadOnlyList<string> Names { get; }

    private bool OwnsSession { get; }

    /// <summary>The names asked for (all when null), in the order given; throws for unknown or repeated names.</summary>
    public IReadOnlyList<string> Resolve(IEnumerable<string>? names, string source)
    {
        var wanted = names?.ToList() ?? [.. Names];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in wanted)
        {
            if (!Shapes.ContainsKey(name))
            {
                throw new UnknownOutputException($"{source}: no feature map named '{name}'; available: {string.Join(", ", Names)}");
            }

            if (!seen.Add(name))
            {
                throw new UnknownOutputException($"{source}: feature map '{name}' is asked for twice; name each once (available: {string.Join(", ", Names)})");
            }
        }

        return wanted;
    }

    public void Dispose()
    {
        if (OwnsSession)
        {
            Session.Dispose();
        }
    }
}
