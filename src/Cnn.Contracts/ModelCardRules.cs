namespace Cnn.Contracts;

/// <summary>The consistency rules of a <see cref="ModelCard"/>, each yielding a message when broken.</summary>
internal static class ModelCardRules
{
    public static IEnumerable<string> Check(ModelCard card) =>
        CheckLabels(card).Concat(CheckInput(card)).Concat(CheckCalibration(card)).Concat(CheckFeatures(card.Features)).Concat(CheckProvenance(card));

    private static IEnumerable<string> CheckLabels(ModelCard card)
    {
        if (card.Labels.Count < 2 || card.Labels.Any(string.IsNullOrEmpty))
        {
            yield return $"labels are [{string.Join(", ", card.Labels)}]; expected at least 2 non-empty class names";
        }

        if (card.Labels.Distinct(StringComparer.Ordinal).Count() != card.Labels.Count)
        {
            yield return $"labels [{string.Join(", ", card.Labels)}] repeat a name; expected distinct class names";
        }
    }

    private static IEnumerable<string> CheckInput(ModelCard card)
    {
        var shape = card.Input.Shape;
        if (shape.Channels < 1 || shape.Height < 1 || shape.Width < 1)
        {
            yield return $"input shape is {shape}; expected positive [C, H, W]";
        }

        if (card.Output == null && (card.Input.Name != OnnxNames.Input || card.Input.Layout != OnnxNames.Layout))
        {
            yield return $"input is '{card.Input.Name}' in {card.Input.Layout}; expected '{OnnxNames.Input}' in {OnnxNames.Layout} (a model of another producer names its output too)";
        }

        if (string.IsNullOrEmpty(card.Input.Name) || card.Input.Layout is not (OnnxNames.Layout or OnnxNames.LayoutNhwc))
        {
            yield return $"input is '{card.Input.Name}' in {card.Input.Layout}; expected a name and {OnnxNames.Layout} or {OnnxNames.LayoutNhwc}";
        }

        if (card.Output is { } output && (string.IsNullOrEmpty(output.Name) || output.Name == OnnxNames.Probabilities || output.Name == card.Input.Name))
        {
            yield return $"output is '{output.Name}'; expected the graph's class-score output, other than the input and '{OnnxNames.Probabilities}' (which the reader adds)";
        }

        if (!(card.Input.Range.Min < card.Input.Range.Max))
        {
            yield return $"input range is [{card.Input.Range.Min}, {card.Input.Range.Max}]; expected min < max";
        }

        var n = card.Normalization;
        if (n.Mean.Count != shape.Channels || n.Std.Count != shape.Channels || n.Std.Any(s => !(s > 0)) || n.Mean.Any(m => !double.IsFinite(m)))
        {
            yield return $"normalization has {n.Mean.Count} means and {n.Std.Count} stds; expected {shape.Channels} finite means and positive stds";
        }

        int expectedChannels = card.Preprocessing == PreprocessingKind.Color ? 3 : 1;
        if (shape.Channels != expectedChannels || !Enum.IsDefined(card.Preprocessing))
        {
            yield return $"preprocessing '{card.Preprocessing}' takes {expectedChannels}-channel input; the input has {shape.Channels}";
        }

        if (card.Deskew && card.Preprocessing != PreprocessingKind.Digit)
        {
            yield return $"deskew is set with preprocessing '{card.Preprocessing}'; deskewing applies to digit preprocessing only";
        }
    }

    private static IEnumerable<string> CheckCalibration(ModelCard card)
    {
        if (!(card.Temperature > 0) || !double.IsFinite(card.Temperature))
        {
            yield return $"temperature is {card.Temperature}; expected a finite number > 0";
        }

        if (card.Members.Count == 1)
        {
            yield return "members lists 1 net; expected none (a single net) or at least 2 (an ensemble)";
        }

        if (card.Output != null && card.Temperature != 1)
        {
            yield return $"temperature is {card.Temperature} for a model of another producer; expected 1";
        }

        if (card.Members.Count > 1 && card.Temperature != 1)
        {
            yield return $"temperature is {card.Temperature} for an ensemble; expected 1 (each member applies its own)";
        }

        if (card.Members.Any(m => !(m.Temperature > 0) || !double.IsFinite(m.Temperature) || m.TestAccuracy is < 0 or > 1))
        {
            yield return "a member's temperature is not a finite number > 0 or its test_accuracy is outside 0..1";
        }
    }

    private static IEnumerable<string> CheckProvenance(ModelCard card)
    {
        if (card.WeightsSha256.Length != 64 || !card.WeightsSha256.All(Uri.IsHexDigit))
        {
            yield return $"weights_sha256 is '{card.WeightsSha256}'; expected 64 hex digits";
        }

        if (card.TestAccuracy is { } accuracy && !(accuracy >= 0 && accuracy <= 1))
        {
            yield return $"test_accuracy is {accuracy}; expected 0..1";
        }

        if (card.UnsureBelow is { } threshold && !(threshold > 0 && threshold <= 1))
        {
            yield return $"unsure_below is {threshold}; expected a probability in (0, 1]";
        }
    }

    private static IEnumerable<string> CheckFeatures(IReadOnlyList<FeatureLayer> features)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in features)
        {
            if (string.IsNullOrEmpty(f.Name) || f.Name is OnnxNames.Input or OnnxNames.Logits or OnnxNames.Probabilities || !seen.Add(f.Name))
            {
                yield return $"feature '{f.Name}' is empty, reserved or repeated; expected distinct layer names";
            }

            if (f.Shape.Channels < 1 || f.Shape.Height < 1 || f.Shape.Width < 1)
            {
                yield return $"feature '{f.Name}' has shape {f.Shape}; expected positive [C, H, W]";
            }
        }
    }
}
