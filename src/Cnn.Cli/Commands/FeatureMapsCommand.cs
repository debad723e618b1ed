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
    [Description("ONNX file written by `cnn export` (its .features.onnx sibling supplies the maps)")]
    public string Model { get; init; } = "";

    [CommandArgument(1, "<IMAGE>")]
    [Description("Image file")]
    public string Image { get; init; } = "";

    [CommandOption("--layers <NAMES>")]
    [Description("Comma-separated feature outputs, e.g. conv1,pool1,conv2. Default: all")]
    public string? Layers { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for LAYER.png grids, LAYER.npy values and input.png. Default: featuremaps")]
    [DefaultValue("featuremaps")]
    public string Out { get; init; } = "featuremaps";

    /// <summary>The layers asked for; null for all.</summary>
    internal IReadOnlyList<string>? LayerList => Layers?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override ValidationResult Validate() => Layers != null && LayerList!.Count == 0
        ? ValidationResult.Error($"--layers is '{Layers}'; expected layer names such as conv1,pool1 (leave it out for all)")
        : ValidationResult.Success();
}

/// <summary><c>cnn featuremaps</c>: one PNG grid per layer (the seed's figures 1–3) and the raw values as .npy.</summary>
public sealed class FeatureMapsCommand(IAnsiConsole console) : Command<FeatureMapsSettings>
{
    public override int Execute(CommandContext context, FeatureMapsSettings settings, CancellationToken cancellationToken)
    {
        using var model = CnnModel.Load(settings.Model);
        var prepared = model.Images.Prepare(settings.Image);
        var set = model.GetFeatureMaps(prepared.Pixels, settings.LayerList);
        Directory.CreateDirectory(settings.Out);
        string input = Path.Combine(settings.Out, "input.png");
        File.WriteAllBytes(input, prepared.EncodePng(scale: 4));
        console.MarkupLineInterpolated($"{settings.Image} → [bold]{set.Prediction.Label}[/] ({set.Prediction.Probability:P1}); what the net saw: {input}");
        foreach (var (name, map) in set.Maps)
        {
            string png = Path.Combine(settings.Out, $"{name}.png");
            string npy = Path.Combine(settings.Out, $"{name}.npy");
            string kind = name.StartsWith("pool", StringComparison.Ordinal) ? "pooled" : "after activation";
            FeatureMapFigure.Save(map, $"{name}: {map.Channels} maps of {map.Height}×{map.Width} ({kind}) — {Path.GetFileName(settings.Image)} → {set.Prediction.Label}", png);
            Npy.Save(npy, map.Values, map.Channels, map.Height, map.Width);
            console.MarkupLineInterpolated($"  {name,-6} [[{map.Channels}, {map.Height}, {map.Width}]]  {png}  {npy}");
        }

        return 0;
    }
}
