namespace Cnn.Export;

/// <summary>Options of an export.</summary>
public sealed record ExportOptions
{
    public const int DefaultOpset = 17;
    public const int MinOpset = 13;
    public const int MaxOpset = 21;

    /// <summary>ONNX opset of the default domain; 17 is read by every current runtime.</summary>
    public int Opset { get; init; } = DefaultOpset;

    public ExportOptions Validated() => Opset is >= MinOpset and <= MaxOpset
        ? this
        : throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"opset {Opset} is not supported; expected {MinOpset}..{MaxOpset}");

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
