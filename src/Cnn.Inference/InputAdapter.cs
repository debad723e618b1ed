using Cnn.Contracts;

namespace Cnn.Inference;

/// <summary>
/// How the pixels a caller passes — raw intensities, [C, H, W] per image, as every method of <see cref="CnnModel"/>
/// takes them — become the input of a graph that wants them otherwise: normalised when the graph does not normalise
/// (another producer's model, whose card says so), laid out [H, W, C] when it is NHWC. Null for this project's models.
/// </summary>
internal sealed class InputAdapter
{
    private readonly TensorShape _shape;
    private readonly float[] _mean;
    private readonly float[] _scale;
    private readonly bool _nhwc;

    private InputAdapter(ModelCard card)
    {
        _shape = card.Input.Shape;
        _nhwc = card.Input.Layout == OnnxNames.LayoutNhwc;
        bool normalise = !card.Normalization.InGraph;
        _mean = [.. card.Normalization.Mean.Select(m => normalise ? (float)m : 0f)];
        _scale = [.. card.Normalization.Std.Select(s => normalise ? (float)(1 / s) : 1f)];
    }

    public static InputAdapter? For(ModelCard card) =>
        card.Normalization.InGraph && card.Input.Layout == OnnxNames.Layout ? null : new InputAdapter(card);

    /// <summary>The graph's input shape for <paramref name="count"/> images in the card's layout.</summary>
    public static long[] Shape(ModelCard card, int count)
    {
        var s = card.Input.Shape;
        return card.Input.Layout == OnnxNames.LayoutNhwc ? [count, s.Height, s.Width, s.Channels] : [count, s.Channels, s.Height, s.Width];
    }

    /// <summary>Writes <paramref name="source"/>'s images, [C, H, W] each, into <paramref name="destination"/> as the graph takes them.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination)
    {
        int plane = _shape.Height * _shape.Width, image = _shape.Channels * plane;
        for (int start = 0; start < source.Length; start += image)
        {
            for (int c = 0; c < _shape.Channels; c++)
            {
                float mean = _mean[c], scale = _scale[c];
                var from = source.Slice(start + (c * plane), plane);
                for (int p = 0; p < plane; p++)
                {
                    destination[start + (_nhwc ? (p * _shape.Channels) + c : (c * plane) + p)] = (from[p] - mean) * scale;
                }
            }
        }
    }
}
