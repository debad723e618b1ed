using System.ComponentModel;
using System.Globalization;
using Cnn.Commands;
using Cnn.Contracts;
using Cnn.Inference;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn describe</c>: what the graph of another producer's model cannot say about itself.</summary>
public sealed class DescribeSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("An ONNX image classifier another producer made (torch.onnx.export, Keras, …)")]
    public string Model { get; init; } = "";

    [CommandOption("--labels <NAMES>")]
    [Description("Comma-separated class names in the order of the model's output (or --labels-file)")]
    public string? Labels { get; init; }

    [CommandOption("--labels-file <FILE>")]
    [Description("A text file with one class name per line, in output order")]
    public string? LabelsFile { get; init; }

    [CommandOption("--preprocessing <KIND>")]
    [Description("How an image file becomes its input: digit (a handwritten digit, MNIST-like), gray or color (resized)")]
    public PreprocessingKind? Preprocessing { get; init; }

    [CommandOption("--layout <L>")]
    [Description("NCHW or NHWC. Default: from the input's shape (channels of 1 or 3 first or last)")]
    public string? Layout { get; init; }

    [CommandOption("--range <MIN,MAX>")]
    [Description("The model's raw input range before normalisation. Default: 0,1")]
    public string? Range { get; init; }

    [CommandOption("--mean <M>")]
    [Description("Comma-separated per-channel mean the model's producer subtracts outside the graph (with --std). Default: none")]
    public string? Mean { get; init; }

    [CommandOption("--std <S>")]
    [Description("Comma-separated per-channel standard deviation it divides by (with --mean). Default: none")]
    public string? Std { get; init; }

    [CommandOption("--output <NAME>")]
    [Description("The output with the class scores. Default: the graph's only output")]
    public string? Output { get; init; }

    [CommandOption("--probabilities")]
    [Description("The output holds probabilities already. Default: logits, which get a softmax")]
    public bool Probabilities { get; init; }

    [CommandOption("--features <NAMES>")]
    [Description("Comma-separated tensors offered as feature maps (cnn inspect lists them). Default: every [[N, C, H, W]] float tensor")]
    public string? Features { get; init; }

    [CommandOption("--dataset <NAME>")]
    [Description("What it was trained on, for people. Default: unknown")]
    public string? Dataset { get; init; }

    [CommandOption("--force")]
    [Description("Replace a card already beside the model")]
    public bool Force { get; init; }

    private ForeignModelOptions? _options;

    /// <summary>The options these settings give, built and validated once.</summary>
    internal ForeignModelOptions Options => _options ??= Build();

    public override ValidationResult Validate() => SettingsCheck.Of(() => _ = Options);

    private ForeignModelOptions Build()
    {
        if ((Labels == null) == (LabelsFile == null))
        {
            throw new ArgumentException("--labels or --labels-file is needed, one of them; the graph does not name its classes");
        }

        var labels = Labels != null ? List(Labels) : [.. File.ReadAllLines(LabelsFile!).Select(l => l.Trim()).Where(l => l.Length > 0)];
        var range = Range == null ? null : Numbers("--range", Range);
        if (range is { Count: not 2 })
        {
            throw new ArgumentException($"--range is '{Range}'; expected MIN,MAX such as 0,1 or 0,255");
        }

        return new ForeignModelOptions
        {
            Labels = labels,
            Preprocessing = Preprocessing ?? throw new ArgumentException("--preprocessing is needed: digit, gray or color"),
            Layout = Layout?.ToUpperInvariant(),
            Range = range == null ? new ValueRange(0, 1) : new ValueRange((float)range[0], (float)range[1]),
            Mean = Mean == null ? null : Numbers("--mean", Mean),
            Std = Std == null ? null : Numbers("--std", Std),
            Output = Output,
            OutputIsProbabilities = Probabilities,
            Features = Features == null ? null : List(Features),
            Dataset = Dataset,
        }.Validated();
    }

    private static List<string> List(string text) => [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private static List<double> Numbers(string option, string text) => [.. List(text).Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
        ? v
        : throw new ArgumentException($"{option} is '{text}'; expected comma-separated numbers such as 0.1307"))];
}

/// <summary>
/// <c>cnn describe</c>: writes the model card of another producer's model beside it (MODEL.card.json), filled in from
/// its graph and the options and checked against each other, after which predict, featuremaps and serve use the model.
/// </summary>
public sealed class DescribeCommand(IAnsiConsole console) : Command<DescribeSettings>
{
    public override int Execute(CommandContext context, DescribeSettings settings, CancellationToken cancellationToken)
    {
        var card = ForeignModel.Describe(settings.Model, settings.Options);
        string path = ForeignModel.WriteCard(settings.Model, card, settings.Force);
        var s = card.Input.Shape;
        console.MarkupLineInterpolated($"{settings.Model}: input '{card.Input.Name}' {card.Input.Layout} [[{s.Channels}, {s.Height}, {s.Width}]], output '{card.Output!.Name}' ({(card.Output.Logits ? "logits, softmax applied" : "probabilities")}), {card.Labels.Count} labels, {card.Features.Count} feature maps");
        console.MarkupLineInterpolated($"wrote {path}; now `cnn predict {settings.Model} IMAGE` and `cnn serve {settings.Model}` read it");
        return 0;
    }
}
