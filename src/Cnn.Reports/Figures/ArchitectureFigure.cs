using System.Globalization;
using System.Security;
using System.Text;
using Cnn.Export;
using SkiaSharp;
using static TorchSharp.torch;

namespace Cnn.Reports;

/// <summary>One layer of the architecture figure: its module name, kind, output shape and parameter count.</summary>
internal sealed record LayerBox(string Name, string Kind, IReadOnlyList<long> OutputShape, long Parameters);

/// <summary>
/// The seed's figure 5, generated from the model definition: the input, then each leaf module as a block coloured by
/// its kind (conv, batch norm, ReLU, pooling, dense, dropout), with its output shape and parameter count. SVG and PNG.
/// </summary>
internal static class ArchitectureFigure
{
    private const int BoxWidth = 150, BoxHeight = 86, Gap = 18, Margin = 20, TitleHeight = 40;

    private static readonly Dictionary<string, SKColor> Colours = new()
    {
        ["input"] = new(200, 200, 200),
        ["conv"] = new(93, 156, 236),
        ["batch norm"] = new(160, 196, 255),
        ["activation"] = new(255, 206, 84),
        ["pooling"] = new(72, 207, 173),
        ["flatten"] = new(204, 209, 217),
        ["dense"] = new(237, 85, 101),
        ["dropout"] = new(172, 146, 236),
    };

    /// <summary>Runs a one-image batch through the leaves in order to read every output shape.</summary>
    public static IReadOnlyList<LayerBox> Describe(nn.Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape)
    {
        var boxes = new List<LayerBox> { new("input", "input", inputShape, 0) };
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = zeros([1, .. inputShape]);
        foreach (var layer in ModuleTree.Leaves(model))
        {
            x = layer.Module.call(x);
            string kind = layer.Kind switch
            {
                LayerKind.Conv => "conv",
                LayerKind.BatchNorm => "batch norm",
                LayerKind.Activation => "activation",
                LayerKind.AveragePool or LayerKind.MaxPool => "pooling",
                LayerKind.Flatten => "flatten",
                LayerKind.Linear => "dense",
                LayerKind.Dropout => "dropout",
                _ => "other",
            };
            long parameters = layer.Module.parameters().Sum(p => p.numel());
            boxes.Add(new LayerBox(layer.Path, $"{kind}: {layer.Module.GetType().Name}", x.shape.Skip(1).ToArray(), parameters));
        }

        return boxes;
    }

    public static void Save(IReadOnlyList<LayerBox> boxes, string title, string svgPath, string pngPath)
    {
        int perRow = Math.Min(boxes.Count, 7);
        int rows = (boxes.Count + perRow - 1) / perRow;
        int width = (2 * Margin) + (perRow * BoxWidth) + ((perRow - 1) * Gap);
        int height = TitleHeight + Margin + (rows * BoxHeight) + ((rows - 1) * Gap) + Margin;
        var svg = new StringBuilder(FormattableString.Invariant(
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"DejaVu Sans, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{Margin}\" y=\"26\" font-size=\"16\">{SecurityElement.Escape(title)}</text>\n"));
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var titlePaint = Drawing.Text(16);
        canvas.DrawText(title, Margin, 26, titlePaint);
        using var bold = Drawing.Text(13);
        using var small = Drawing.Text(10.5f, new SKColor(40, 40, 40));
        using var arrow = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1.5f, IsAntialias = true };
        for (int i = 0; i < boxes.Count; i++)
        {
            var box = boxes[i];
            int x = Margin + ((i % perRow) * (BoxWidth + Gap));
            int y = TitleHeight + Margin + ((i / perRow) * (BoxHeight + Gap));
            var colour = Colours.GetValueOrDefault(box.Kind.Split(':')[0], new SKColor(220, 220, 220));
            string shape = "[" + string.Join("×", box.OutputShape) + "]";
            string parameters = box.Parameters == 0 ? "no parameters" : $"{box.Parameters.ToString("N0", CultureInfo.InvariantCulture)} params";
            using (var fill = new SKPaint { Color = colour, IsAntialias = true })
            {
                canvas.DrawRoundRect(x, y, BoxWidth, BoxHeight, 8, 8, fill);
            }

            canvas.DrawText(box.Name, x + 8, y + 20, bold);
            canvas.DrawText(box.Kind, x + 8, y + 38, small);
            canvas.DrawText(shape, x + 8, y + 56, small);
            canvas.DrawText(parameters, x + 8, y + 74, small);
            if (i % perRow != perRow - 1 && i < boxes.Count - 1)
            {
                canvas.DrawLine(x + BoxWidth + 2, y + (BoxHeight / 2), x + BoxWidth + Gap - 2, y + (BoxHeight / 2), arrow);
            }

            string hex = $"#{colour.Red:x2}{colour.Green:x2}{colour.Blue:x2}";
            svg.Append(FormattableString.Invariant(
                $"<g><rect x=\"{x}\" y=\"{y}\" width=\"{BoxWidth}\" height=\"{BoxHeight}\" rx=\"8\" fill=\"{hex}\"/><text x=\"{x + 8}\" y=\"{y + 20}\" font-size=\"13\">{SecurityElement.Escape(box.Name)}</text><text x=\"{x + 8}\" y=\"{y + 38}\" font-size=\"10.5\">{SecurityElement.Escape(box.Kind)}</text><text x=\"{x + 8}\" y=\"{y + 56}\" font-size=\"10.5\">{SecurityElement.Escape(shape)}</text><text x=\"{x + 8}\" y=\"{y + 74}\" font-size=\"10.5\">{SecurityElement.Escape(parameters)}</text></g>\n"));
        }

        svg.Append("</svg>\n");
        Cnn.Train.AtomicFile.Write(svgPath, Encoding.UTF8.GetBytes(svg.ToString()));
        Drawing.SavePng(surface, pngPath);
    }
}
