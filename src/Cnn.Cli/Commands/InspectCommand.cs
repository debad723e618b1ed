using System.ComponentModel;
using Cnn.Inference;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn inspect</c>.</summary>
public sealed class InspectSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("Any ONNX file: this project's or another producer's")]
    public string Model { get; init; } = "";
}

/// <summary>
/// <c>cnn inspect</c>: every input, intermediate and output tensor of an ONNX graph — name, the operator that writes
/// it, element type and shape as ONNX Runtime infers them — the names <c>cnn featuremaps --tensors</c> and
/// <c>CnnModel.GetTensors</c> take.
/// </summary>
public sealed class InspectCommand(IAnsiConsole console) : Command<InspectSettings>
{
    public override int Execute(CommandContext context, InspectSettings settings, CancellationToken cancellationToken)
    {
        var graph = OnnxGraph.Inspect(settings.Model);
        console.MarkupLineInterpolated($"{settings.Model}: ONNX IR {graph.IrVersion}, opset {graph.Opset}, {graph.Tensors.Count} tensors");
        var table = new Table().AddColumns("role", "name", "operator", "type", "shape");
        foreach (var t in graph.Tensors)
        {
            string shape = t.Shape.Count == 0 ? "?" : $"[{string.Join(", ", t.Shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
            table.AddRow(Markup.Escape(t.Role.ToString().ToLowerInvariant()), Markup.Escape(Cnn.Contracts.DisplayText.Escape(t.Name)), Markup.Escape(t.Operator), Markup.Escape(t.ElementType), Markup.Escape(shape));
        }

        console.Write(table);
        return 0;
    }
}
