using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Cnn.Cli.Figures;
using Cnn.Inference;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn predict</c>.</summary>
public sealed class PredictSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("ONNX file written by `cnn export`")]
    public string Model { get; init; } = "";

    [CommandArgument(1, "<IMAGES>")]
    [Description("Image files (PNG, JPEG, BMP, WebP): photos or drawings of digits for digit models")]
    public string[] Images { get; init; } = [];

    [CommandOption("--json")]
    // Help text is Spectre markup: [[ and ]] print brackets.
    [Description("Print a JSON array of {file, label, probability, unsure, top: [[{label, probability}]]} (or {file, error}) on stdout instead of tables")]
    public bool Json { get; init; }

    [CommandOption("--sheet <PNG>")]
    [Description("Also draw each input, what the net saw and the predicted label into this PNG")]
    public string? Sheet { get; init; }

    [CommandOption("--top <K>")]
    [Description("How many classes to list per image. Default: 3")]
    [DefaultValue(3)]
    public int Top { get; init; } = 3;

    [CommandOption("--min-probability <P>")]
    [InferenceDefaultDescription("A prediction below this probability is marked unsure: better asked again than trusted; 0 = never.", nameof(InferenceOptions.MinProbability))]
    public double? MinProbability { get; init; }

    /// <summary>The inference options these settings ask for; the defaults are InferenceOptions' own.</summary>
    internal InferenceOptions Inference
    {
        get
        {
            var d = new InferenceOptions();
            double p = MinProbability ?? d.MinProbability;
            return p is >= 0 and <= 1
                ? d with { MinProbability = p }
                : throw new ArgumentException($"--min-probability is {p.ToString(CultureInfo.InvariantCulture)}; expected 0..1 (0 = never unsure)");
        }
    }

    public override ValidationResult Validate() => Top < 1
        ? ValidationResult.Error($"--top is {Top}; expected ≥ 1")
        : SettingsCheck.Of(() => _ = Inference);
}

/// <summary>
/// <c>cnn predict</c>: the label and top classes of each image, through Cnn.Inference. An image that cannot be read is
/// reported and the others still run; the exit code is then 1. With --json, stdout holds the JSON alone and every
/// message goes to stderr.
/// </summary>
public sealed class PredictCommand(IAnsiConsole console) : Command<PredictSettings>
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public override int Execute(CommandContext context, PredictSettings settings, CancellationToken cancellationToken)
    {
        using var model = CnnModel.Load(settings.Model, settings.Inference);
        var results = new List<object>();
        var rows = new List<SheetRow>();
        foreach (var file in settings.Images)
        {
            try
            {
                var decoded = model.Decode(file);
                var prepared = model.Prepare(decoded);
                var prediction = model.Predict(prepared.Pixels);
                rows.Add(new SheetRow(file, decoded, prepared, prediction));
                results.Add(Describe(file, prediction, settings.Top));
                if (!settings.Json)
                {
                    PrintTable(file, prediction, settings.Top);
                }
            }
            catch (Exception e) when (e is InferenceException or IOException or UnauthorizedAccessException)
            {
                results.Add(new { file, error = e.Message });
                if (!settings.Json)
                {
                    console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                }
            }
        }

        if (settings.Json)
        {
            // Straight to stdout: JSON must not pass through Spectre's wrapping or markup.
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(results, Indented));
        }

        if (settings.Sheet != null && rows.Count > 0)
        {
            PredictionSheet.Save(rows, settings.Sheet);
            if (!settings.Json)
            {
                console.MarkupLineInterpolated($"sheet: {Path.GetFullPath(settings.Sheet)}");
            }
        }

        return rows.Count == settings.Images.Length ? 0 : 1;
    }

    private static object Describe(string file, Prediction prediction, int top) => new
    {
        file,
        label = prediction.Label,
        probability = prediction.Probability,
        unsure = prediction.IsUnsure,
        top = prediction.Top(top).Select(t => new { label = t.Label, probability = t.Probability }),
    };

    private void PrintTable(string file, Prediction prediction, int top)
    {
        if (prediction.IsUnsure)
        {
            console.MarkupLineInterpolated($"{file} → [bold]{prediction.Label}[/] [yellow](unsure: {prediction.Probability.ToString("P0", CultureInfo.InvariantCulture)} is below --min-probability; try a clearer image)[/]");
        }
        else
        {
            console.MarkupLineInterpolated($"{file} → [bold]{prediction.Label}[/]");
        }
        var table = new Table().AddColumns("label", "probability");
        foreach (var t in prediction.Top(top))
        {
            table.AddRow(Markup.Escape(t.Label), t.Probability.ToString("P2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }
}
