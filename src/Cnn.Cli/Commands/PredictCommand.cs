using Cnn.Contracts;
using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Cnn.Inference;
using Cnn.Reports;
using Cnn.Serve;
using Cnn.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn predict</c>.</summary>
public sealed class PredictSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("ONNX file written by `cnn export`, or another producer's with its card beside it (cnn describe)")]
    public string Model { get; init; } = "";

    [CommandArgument(1, "<IMAGES>")]
    [Description("Image files (PNG, JPEG, BMP, WebP): photos or drawings of digits for digit models")]
    public string[] Images { get; init; } = [];

    [CommandOption("--json")]
    // Help text is Spectre markup: [[ and ]] print brackets.
    [Description("Print a JSON array of {file, label, probability, unsure, top: [[{label, probability}]]} (or {file, error}), the API's prediction shape, on stdout as the answers come, instead of tables")]
    public bool Json { get; init; }

    [CommandOption("--sheet <PNG>")]
    [Description("Also draw each input, what the net saw and the predicted label into this PNG (the first 200 images)")]
    public string? Sheet { get; init; }

    [CommandOption("--top <K>")]
    [Description("How many classes to list per image. Default: 3")]
    [DefaultValue(3)]
    public int Top { get; init; } = 3;

    [CommandOption("--min-probability <P>")]
    [Description("A prediction below this probability is marked unsure: better asked again than trusted; 0 = never. Default: the model card's threshold (unsure_below), else 0.9")]
    public double? MinProbability { get; init; }

    /// <summary>The inference options these settings ask for; the defaults are InferenceOptions' own.</summary>
    internal InferenceOptions Inference
    {
        get
        {
            var d = new InferenceOptions();
            return MinProbability is not { } p || p is >= 0 and <= 1
                ? d with { MinProbability = MinProbability }
                : throw new ArgumentException($"--min-probability is {p.ToString(CultureInfo.InvariantCulture)}; expected 0..1 (0 = never unsure)");
        }
    }

    public override ValidationResult Validate() => Top < 1
        ? ValidationResult.Error($"--top is {Top}; expected ≥ 1")
        : SettingsCheck.Of(() => _ = Inference);
}

/// <summary>
/// <c>cnn predict</c>: the label and top classes of each image, through Cnn.Inference. Images are read, predicted and
/// printed one at a time, so memory stays bounded however many files are given; the sheet keeps only small thumbnails,
/// of the first <see cref="PredictionSheet.MaxRows"/> images. An image that cannot be read is reported and the others
/// still run; the exit code is then 1. With --json, stdout holds the JSON array alone (written as the answers come)
/// and every message goes to stderr.
/// </summary>
public sealed class PredictCommand(IAnsiConsole console) : Command<PredictSettings>
{
    public override int Execute(CommandContext context, PredictSettings settings, CancellationToken cancellationToken)
    {
        using var model = CnnModel.Load(settings.Model, settings.Inference);
        var rows = new List<SheetRow>();
        int answered = 0;
        using var json = settings.Json ? new JsonArrayWriter(console.Profile.Out.Writer) : null;
        foreach (var file in settings.Images)
        {
            try
            {
                var decoded = model.Images.Decode(file);
                var prepared = model.Images.Prepare(decoded);
                var prediction = model.Predict(prepared.Pixels);
                answered++;
                if (settings.Sheet != null && rows.Count < PredictionSheet.MaxRows)
                {
                    rows.Add(SheetRow.Of(file, decoded, prepared, prediction));
                }

                if (json != null)
                {
                    json.Write(file, PredictionDto.From(prediction, settings.Top), null);
                }
                else
                {
                    PrintTable(file, prediction, settings.Top);
                }
            }
            catch (Exception e) when (e is InferenceException or IOException or UnauthorizedAccessException)
            {
                if (json != null)
                {
                    json.Write(file, null, e.Message);
                }
                else
                {
                    console.MarkupLineInterpolated($"[red]error:[/] {DisplayText.Escape(e.Message)}");
                }
            }
        }

        json?.Close();
        if (settings.Sheet != null && rows.Count > 0)
        {
            PredictionSheet.Save(rows, answered, settings.Sheet);
            if (!settings.Json)
            {
                console.MarkupLineInterpolated($"sheet: {DisplayText.Escape(Path.GetFullPath(settings.Sheet))}{(answered > rows.Count ? $" (the first {rows.Count:N0} of {answered:N0} images)" : "")}");
            }
        }

        return answered == settings.Images.Length ? 0 : 1;
    }

    private void PrintTable(string file, Prediction prediction, int top)
    {
        if (prediction.IsUnsure)
        {
            console.MarkupLineInterpolated($"{DisplayText.Escape(file)} → [bold]{prediction.Label}[/] [yellow](unsure: {prediction.Probability.ToString("P0", CultureInfo.InvariantCulture)} is below --min-probability; try a clearer image)[/]");
        }
        else
        {
            console.MarkupLineInterpolated($"{DisplayText.Escape(file)} → [bold]{prediction.Label}[/]");
        }
        var table = new Table().AddColumns("label", "probability");
        foreach (var t in prediction.Top(top))
        {
            table.AddRow(Markup.Escape(t.Label), t.Probability.ToString("P2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    /// <summary>
    /// The --json array, one element per file as it is answered: <c>{file, label, probability, unsure, top}</c> with
    /// the prediction in the API's shape (<see cref="PredictionDto"/>), or <c>{file, error}</c>. Straight to stdout:
    /// JSON must not pass through Spectre's wrapping or markup.
    /// </summary>
    private sealed class JsonArrayWriter : IDisposable
    {
        private readonly TextWriter _out;
        private readonly MemoryStream _buffer = new();
        private readonly Utf8JsonWriter _writer;

        public JsonArrayWriter(TextWriter output)
        {
            _out = output;
            _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            _writer.WriteStartArray();
        }

        public void Write(string file, PredictionDto? prediction, string? error)
        {
            _writer.WriteStartObject();
            _writer.WriteString("file", file);
            prediction?.WriteProperties(_writer);
            if (error != null)
            {
                _writer.WriteString("error", error);
            }

            _writer.WriteEndObject();
            Flush();
        }

        public void Close()
        {
            _writer.WriteEndArray();
            Flush();
            _out.WriteLine();
        }

        public void Dispose()
        {
            _writer.Dispose();
            _buffer.Dispose();
        }

        private void Flush()
        {
            _writer.Flush();
            _out.Write(System.Text.Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length));
            _out.Flush();
            _buffer.SetLength(0);
        }
    }
}
