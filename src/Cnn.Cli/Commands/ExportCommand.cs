using System.ComponentModel;
using Cnn.Export;
using Cnn.Train;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn export</c>.</summary>
public sealed class ExportSettings : CommandSettings
{
    [CommandArgument(0, "<RUN_DIR>")]
    [Description("Run folder written by `cnn train` (model.pt, config.json)")]
    public string Run { get; init; } = "";

    [CommandOption("--out <FILE>")]
    [Description("ONNX file to write; FILE.features.onnx is written beside it. Default: RUN_DIR/model.onnx")]
    public string? Out { get; init; }

    [CommandOption("--opset <N>")]
    [Description("ONNX opset, 13..21. Default: 17")]
    public int? Opset { get; init; }

    internal ExportOptions Options
    {
        get
        {
            var defaults = new ExportOptions();
            return (defaults with { Opset = Opset ?? defaults.Opset }).Validated();
        }
    }

    public override ValidationResult Validate()
    {
        try
        {
            _ = Options;
            return ValidationResult.Success();
        }
        catch (ArgumentOutOfRangeException)
        {
            return ValidationResult.Error($"--opset is {Opset}; expected {ExportOptions.MinOpset}..{ExportOptions.MaxOpset}");
        }
    }
}

/// <summary><c>cnn export</c>: writes model.onnx and model.features.onnx from a run's weights.</summary>
public sealed class ExportCommand(IAnsiConsole console) : Command<ExportSettings>
{
    public override int Execute(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        var run = new RunFolder(settings.Run);
        // Surfaces a libtorch load failure as one message naming what is missing, before any tensor is made.
        TorchRuntime.EnsureLoaded();
        string output = settings.Out ?? run.File("model.onnx");
        var result = OnnxExporter.ExportRun(run, output, settings.Options);
        foreach (var path in new[] { result.ModelPath, result.FeaturesPath })
        {
            var model = OnnxFile.Read(path);
            console.MarkupLineInterpolated($"[bold]{path}[/] ({new FileInfo(path).Length:N0} bytes, IR {model.IrVersion}, opset {model.OpsetImport[0].Version})");
            foreach (var input in OnnxFile.Inputs(model))
            {
                console.MarkupLineInterpolated($"  input   {input}");
            }

            foreach (var o in OnnxFile.Outputs(model))
            {
                console.MarkupLineInterpolated($"  output  {o}");
            }
        }

        return 0;
    }
}
