using System.ComponentModel;
using Cnn.Reports;
using Cnn.Inference;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn featuremaps</c>.</summary>
public sealed class FeatureMapsSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("ONNX file written by `cnn export` (its .features.onnx sibling supplies the maps), or another producer's with its card beside it (cnn describe)")]
    public string Model { get; init; } = "";

    [CommandArgument(1, "<IMAGE>")]
    [Description("Image file")]
    public string Image { get; init; } = "";

    [CommandOption("--layers <NAMES>")]
    [Description("Comma-separated feature outputs, e.g. conv1,pool1,conv2. Default: all")]
    public string? Layers { get; init; }

    [CommandOption("--tensors <NAMES>")]
    [Description("Comma-separated tensors of the graph by name, any a node writes (cnn inspect lists them), written as NAME.npy, and as a PNG grid when [[1, C, H, W]]; instead of --layers")]
    public string? Tensors { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for LAYER.png grids, LAYER.npy values and input.png. Default: featuremaps")]
    [DefaultValue("featuremaps")]
    public string Out { get; init; } = "featuremaps";

    /// <summary>The layers asked for; null for all.</summary>
    internal IReadOnlyList<string>? LayerList => Layers?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The tensors asked for by name; null for none.</summary>
    internal IReadOnlyList<string>? TensorList => Tensors?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override ValidationResult Validate() =>
        Layers != null && LayerList!.Count == 0 ? ValidationResult.Error($"--layers is '{Layers}'; expected layer names such as conv1,pool1 (leave it out for all)")
        : Tensors != null && TensorList!.Count == 0 ? ValidationResult.Error($"--tensors is '{Tensors}'; expected tensor names as cnn inspect lists them")
        : Tensors != null && Layers != null ? ValidationResult.Error("--layers and --tensors were both given; expected one: --layers names the card's feature maps, --tensors any tensor of the graph")
        : ValidationResult.Success();
}

/// <summary><c>cnn featuremaps</c>: one PNG grid per layer (the seed's figures 1–3) and the raw values as .npy.</summary>
public sealed class FeatureMapsCommand(IAnsiConsole console) : Command<FeatureMapsSettings>
{
    public override int Execute(CommandContext context, FeatureMapsSettings settings, CancellationToken cancellationToken)
    {
        using var model = CnnModel.Load(settings.Model);
        var prepared = model.Images.Prepare(settings.Image);
        // Everything is computed before anything is written, so an unknown name leaves no folder behind; the feature
        // maps come with the prediction of the same run, tensors by name get one of their own.
        var tensors = settings.TensorList is { } names ? model.GetTensors(prepared.Pixels, names) : null;
        var set = tensors == null ? model.GetFeatureMaps(prepared.Pixels, settings.LayerList) : null;
        var prediction = set?.Prediction ?? model.Predict(prepared.Pixels);
        Directory.CreateDirectory(settings.Out);
        string input = Path.Combine(settings.Out, "input.png");
        File.WriteAllBytes(input, prepared.EncodePng(scale: 4));
        console.MarkupLineInterpolated($"{settings.Image} → [bold]{prediction.Label}[/] ({prediction.Probability:P1}); what the net saw: {input}");
        foreach (var (name, tensor) in tensors ?? new Dictionary<string, NamedTensor>())
        {
            WriteTensor(settings, name, tensor, prediction.Label);
        }

        foreach (var (name, map) in set?.Maps ?? new Dictionary<string, FeatureMap>())
        {
            string png = Path.Combine(settings.Out, $"{name}.png");
            string npy = Path.Combine(settings.Out, $"{name}.npy");
            string kind = name.StartsWith("pool", StringComparison.Ordinal) ? "pooled" : "after activation";
            FeatureMapFigure.Save(map, $"{name}: {map.Channels} maps of {map.Height}×{map.Width} ({kind}) — {Path.GetFileName(settings.Image)} → {prediction.Label}", png);
            Npy.Save(npy, map.Values, map.Channels, map.Height, map.Width);
            console.MarkupLineInterpolated($"  {name,-6} [[{map.Channels}, {map.Height}, {map.Width}]]  {png}  {npy}");
        }

        return 0;
    }

    /// <summary>A tensor as NAME.npy (a name's '/' and other path characters become '_'), and a grid when it is one image's maps.</summary>
    private void WriteTensor(FeatureMapsSettings settings, string name, NamedTensor tensor, string label)
    {
        string file = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')).Trim('.');
        string npy = Path.Combine(settings.Out, $"{file}.npy");
        Npy.Save(npy, tensor.Values, [.. tensor.Shape.Select(d => (int)d)]);
        string written = npy;
        if (tensor.Shape is [1, var c, var h, var w])
        {
            string png = Path.Combine(settings.Out, $"{file}.png");
            FeatureMapFigure.Save(new FeatureMap(name, (int)c, (int)h, (int)w, tensor.Values), $"{name}: {c} maps of {h}×{w} — {Path.GetFileName(settings.Image)} → {label}", png);
            written = $"{png}  {npy}";
        }

        console.MarkupLineInterpolated($"  {name} [[{string.Join(", ", tensor.Shape)}]]  {written}");
    }
}
