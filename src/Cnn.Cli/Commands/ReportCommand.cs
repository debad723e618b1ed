using System.ComponentModel;
using System.Globalization;
using System.Text;
using Cnn.Cli.Figures;
using Cnn.Export;
using Cnn.Inference;
using Cnn.Train;
using Cnn.Train.Training;
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

/// <summary>
/// <c>cnn report</c>: one Markdown page with the run's metrics and every figure — curves, confusion matrix, mistakes,
/// architecture, the feature-map grids of one image (figures 1–3) and, for images given, the predictions sheet (figure 4).
/// </summary>
public sealed class ReportCommand(IAnsiConsole console) : AsyncCommand<ReportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReportSettings settings, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureLoaded();
        var run = new RunFolder(settings.Run);
        var config = run.ReadConfig();
        var summary = run.ReadSummary();
        string reportPath = Path.GetFullPath(settings.Out ?? run.File("report.md"));
        string reportDir = Path.GetDirectoryName(reportPath)!;
        using var data = await RunData.LoadAsync(config, cancellationToken);
        RunFigures.Write(run, data);

        string onnx = run.File("model.onnx");
        if (!File.Exists(onnx) || !File.Exists(OnnxExporter.FeaturesPathFor(onnx)))
        {
            OnnxExporter.ExportRun(run, onnx);
        }

        using var model = CnnModel.Load(onnx);
        string mapsDir = run.File("report-featuremaps");
        Directory.CreateDirectory(mapsDir);
        string imageNote;
        float[] pixels;
        if (settings.Images.Length > 0)
        {
            var prepared = model.Prepare(settings.Images[0]);
            pixels = prepared.Pixels;
            imageNote = $"`{Path.GetFileName(settings.Images[0])}` (preprocessed as the model's input)";
            File.WriteAllBytes(Path.Combine(mapsDir, "input.png"), prepared.EncodePng(scale: 4));
        }
        else
        {
            var labels = data.Test.Labels.data<long>().ToArray();
            int seven = config.Data.ClassNames.ToList().IndexOf("7");
            int index = seven >= 0 ? Math.Max(0, Array.IndexOf(labels, (long)seven)) : 0;
            pixels = data.Test.Images[index].to_type(TorchSharp.torch.ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
            imageNote = $"test image {index} (label {config.Data.ClassNames[(int)labels[index]]})";
            var prepared = new PreparedImage("test", model.Channels, model.Height, model.Width, pixels);
            File.WriteAllBytes(Path.Combine(mapsDir, "input.png"), prepared.EncodePng(scale: 4));
        }

        var maps = model.GetFeatureMaps(pixels);
        foreach (var (name, map) in maps.Maps)
        {
            FeatureMapFigure.Save(map, $"{name}: {map.Channels} maps of {map.Height}×{map.Width}", Path.Combine(mapsDir, $"{name}.png"));
        }

        string? sheet = null;
        if (settings.Images.Length > 0)
        {
            var rows = settings.Images.Select(file =>
            {
                var bytes = File.ReadAllBytes(file);
                var prepared = model.Prepare(bytes, file);
                return new SheetRow(file, bytes, prepared, model.Predict(prepared.Pixels));
            }).ToList();
            sheet = run.File("predictions.png");
            PredictionSheet.Save(rows, sheet);
        }

        string Rel(string path) => Path.GetRelativePath(reportDir, path).Replace('\\', '/');
        var o = config.Training;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# {config.Model.Name} on {config.Data.Dataset}\n");
        md.AppendLine("| | |\n| --- | --- |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| test accuracy | {summary.TestAccuracy:P2} ({config.Data.TestCount:N0} images) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| best epoch | {summary.BestEpoch} of {summary.EpochsRun}{(summary.StoppedEarly ? " (early stop)" : "")}, validation loss {summary.BestValidationLoss:F4} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| parameters | {summary.Parameters:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| data | {config.Data.TrainCount:N0} train / {config.Data.ValidationCount:N0} validation / {config.Data.TestCount:N0} test |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| training | Adam, lr {o.LearningRate:G}, batch {o.BatchSize}, {o.Scheduler}, patience {o.Patience}, augment {o.Augment}, seed {o.Seed}, {o.Threads} threads, {summary.Device} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| speed | {summary.TrainImagesPerSecond:N0} training images/s, {summary.TrainSeconds:F1} s of training, peak RSS {summary.PeakRssMegabytes:N0} MB |\n");
        md.AppendLine($"## Training curves\n\n![curves]({Rel(run.File(RunFigures.Curves))})\n");
        md.AppendLine($"## Confusion matrix (test set)\n\n![confusion]({Rel(run.File(RunFigures.Confusion))})\n");
        md.AppendLine($"## Most confident mistakes\n\n![mistakes]({Rel(run.File(RunFigures.Mistakes))})\n");
        md.AppendLine($"## Architecture\n\n![architecture]({Rel(run.File(RunFigures.ArchitecturePng))}) ([SVG]({Rel(run.File(RunFigures.ArchitectureSvg))}))\n");
        md.AppendLine(CultureInfo.InvariantCulture, $"## Feature maps\n\nOf {imageNote}, predicted **{maps.Prediction.Label}** ({maps.Prediction.Probability:P1}). What the net saw:\n\n![input]({Rel(Path.Combine(mapsDir, "input.png"))})\n");
        foreach (var name in maps.Maps.Keys)
        {
            md.AppendLine($"![{name}]({Rel(Path.Combine(mapsDir, name + ".png"))})\n");
        }

        if (sheet != null)
        {
            md.AppendLine($"## Predictions of the images given\n\n![predictions]({Rel(sheet)})\n");
        }

        AtomicFile.Write(reportPath, Encoding.UTF8.GetBytes(md.ToString()));
        console.MarkupLineInterpolated($"report: {reportPath}");
        return 0;
    }
}
