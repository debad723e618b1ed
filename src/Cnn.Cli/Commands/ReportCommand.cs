using System.ComponentModel;
using Cnn.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn report</c>.</summary>
public sealed class ReportSettings : CommandSettings
{
    [CommandArgument(0, "<RUN_DIR>")]
    [Description("Run folder written by `cnn train`")]
    public string Run { get; init; } = "";

    [CommandOption("--image <IMG>")]
    [Description("Image(s) of your own (repeat the option): the first one's feature maps are shown, and all go into the predictions sheet. Default: feature maps of the first test image of label 7 (else the first test image), no sheet")]
    public string[] Images { get; init; } = [];

    [CommandOption("--out <FILE>")]
    [Description("Markdown report to write. Default: RUN_DIR/report.md")]
    public string? Out { get; init; }
}

/// <summary><c>cnn report</c>: <see cref="RunReport"/> for a run folder.</summary>
public sealed class ReportCommand(IAnsiConsole console) : AsyncCommand<ReportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReportSettings settings, CancellationToken cancellationToken)
    {
        string report = await RunReport.WriteAsync(settings.Run, settings.Images, settings.Out, cancellationToken);
        console.MarkupLineInterpolated($"report: {report}");
        return 0;
    }
}
