namespace Cnn.Export;

/// <summary>Options of an export.</summary>
public sealed record ExportOptions
{
    public const int DefaultOpset = 17;
    public const int MinOpset = 13;
    public const int MaxOpset = 21;

    /// <summary>ONNX opset of the default domain; 17 is read by every current runtime.</summary>
    public int Opset { get; init; } = DefaultOpset;

    /// <summary>
    /// The model's unsure threshold, written into its card (<see cref="Cnn.Contracts.ModelCard.UnsureBelow"/>): the
    /// probability below which its answers are marked unsure, chosen on data that did not train it; null for none.
    /// </summary>
    public double? UnsureBelow { get; init; }

    public ExportOptions Validated() =>
        Opset is < MinOpset or > MaxOpset ? throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"opset {Opset} is not supported; expected {MinOpset}..{MaxOpset}")
        : UnsureBelow is { } t && !(t > 0 && t <= 1) ? throw new ArgumentOutOfRangeException(nameof(UnsureBelow), t, $"--unsure-below is {t.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected a probability in (0, 1]")
        : this;

    /// <summary>The IR version that goes with the opset (ONNX's versioning table).</summary>
    public long IrVersion => Opset switch
    {
        <= 17 => 8,
        <= 19 => 9,
        _ => 10,
    };
}

/// <summary>The two files of an export, the feature maps the second one exposes, and the card both carry.</summary>
public sealed record ExportResult(string ModelPath, string FeaturesPath, IReadOnlyList<NamedOutput> Features, Cnn.Contracts.ModelCard Card);
