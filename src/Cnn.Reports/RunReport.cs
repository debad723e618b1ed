using System.Globalization;
using System.Text;
using Cnn.Contracts;
using Cnn.Export;
using Cnn.Inference;
using Cnn.Train;
using Cnn.Train.Data;
using Cnn.Train.Recipes;
using Cnn.Train.Training;

namespace Cnn.Reports;

/// <summary>
/// One Markdown page for a run folder: its metrics and every figure — curves, confusion matrix, mistakes, calibration,
/// architecture, the feature-map grids of one image and, for images given, a predictions sheet. What <c>cnn report</c>
/// writes; an app can call it without the CLI.
/// </summary>
public static class RunReport
{
    private const string MapsFolder = "report-featuremaps";

    /// <summary>Writes the report and its figures; returns the report's path.</summary>
    /// <param name="runFolder">A run folder written by training.</param>
    /// <param name="images">Images of the caller's own: the first one's feature maps are shown, all go into a predictions sheet; none = a test image's maps, no sheet.</param>
    /// <param name="reportPath">Where to write the Markdown; default RUN/report.md.</param>
    /// <param name="cancel">Stops reloading the data.</param>
    public static async Task<string> WriteAsync(string runFolder, IReadOnlyList<string> images, string? reportPath = null, CancellationToken cancel = default)
    {
        TorchRuntime.EnsureLoaded();
        var run = new RunFolder(runFolder);
        var config = run.ReadConfig();
        var summary = run.ReadSummary();
        string path = Path.GetFullPath(reportPath ?? run.File("report.md"));
        using var data = await Datasets.ReloadAsync(config, cancel).ConfigureAwait(false);
        WriteRunFigures(run, config, data, summary);
        using var model = LoadExport(run);
        var (pixels, note) = FeatureMapInput(model, images, data, config);
        var maps = DrawFeatureMaps(model, pixels, run);
        string? sheet = images.Count > 0 ? DrawSheet(model, images, run) : null;
        var markdown = Markdown(run, config, summary, maps, note, sheet, Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(markdown));
        return path;
    }

    private static void WriteRunFigures(RunFolder run, RunConfig config, TrainingData data, RunSummary summary)
    {
        using var model = run.LoadModel(config);
        var test = Trainer.Evaluate(model, data.Test, data.Normalization, TorchSharp.torch.CPU, config.Training.BatchSize);
        RunFigures.Write(run, config, data, summary, test);
    }

    /// <summary>
    /// The run's ONNX export, for the feature maps: the one `cnn export` wrote into the run folder, else one written to
    /// a scratch folder and removed once loaded (a report adds nothing to the run folder but its figures).
    /// </summary>
    private static CnnModel LoadExport(RunFolder run)
    {
        string onnx = run.File("model.onnx");
        if (File.Exists(onnx) && File.Exists(OnnxNames.FeaturesPathFor(onnx)))
        {
            return CnnModel.Load(onnx);
        }

        var scratch = Directory.CreateTempSubdirectory("cnn-report-");
        try
        {
            string path = Path.Combine(scratch.FullName, "model.onnx");
            OnnxExporter.ExportRun(run, path);
            // CnnModel reads both files into memory as it loads, so the scratch folder can go at once.
            return CnnModel.Load(path);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>The first image given, prepared; else the test split's first image.</summary>
    private static (PreparedImage Image, string Note) FeatureMapInput(CnnModel model, IReadOnlyList<string> images, TrainingData data, RunConfig config)
    {
        if (images.Count > 0)
        {
            return (model.Images.Prepare(images[0]), $"`{Path.GetFileName(images[0])}` (preprocessed as the model's input)");
        }

        var labels = data.Test.Labels.data<long>().ToArray();
        const int index = 0;
        var pixels = data.Test.Images[index].to_type(TorchSharp.torch.ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        var shape = model.Card.Input.Shape;
        return (new PreparedImage("test", shape.Channels, shape.Height, shape.Width, pixels), $"test image {index} (label {config.Data.ClassNames[(int)labels[index]]})");
    }

    private static FeatureMapSet DrawFeatureMaps(CnnModel model, PreparedImage input, RunFolder run)
    {
        string folder = run.File(MapsFolder);
        Directory.CreateDirectory(folder);
        AtomicFile.Write(Path.Combine(folder, "input.png"), input.EncodePng(scale: 4));
        var maps = model.GetFeatureMaps(input.Pixels);
        foreach (var (name, map) in maps.Maps)
        {
            FeatureMapFigure.Save(map, $"{name}: {map.Channels} maps of {map.Height}×{map.Width}", Path.Combine(folder, $"{name}.png"));
        }

        return maps;
    }

    private static string DrawSheet(CnnModel model, IReadOnlyList<string> images, RunFolder run)
    {
        var rows = images.Select(file =>
        {
            var decoded = model.Images.Decode(file);
            var prepared = model.Images.Prepare(decoded);
            return SheetRow.Of(file, decoded, prepared, model.Predict(prepared.Pixels));
        }).ToList();
        string sheet = run.File("predictions.png");
        PredictionSheet.Save(rows, rows.Count, sheet);
        return sheet;
    }

    private static string Markdown(RunFolder run, RunConfig config, RunSummary summary, FeatureMapSet maps, string note, string? sheet, string reportDir)
    {
        string Rel(string path) => Path.GetRelativePath(reportDir, path).Replace('\\', '/');
        var o = config.Training;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# {config.Model.Name} on {config.Data.Dataset}\n");
        md.AppendLine("| | |\n| --- | --- |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| test accuracy | {summary.TestAccuracy:P2} ({config.Data.TestCount:N0} images) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| best epoch | {summary.BestEpoch} of {summary.EpochsRun}{(summary.StoppedEarly ? " (early stop)" : "")}, validation loss {summary.BestValidationLoss:F4} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| parameters | {summary.Parameters:N0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| data | {config.Data.TrainCount:N0} train / {config.Data.ValidationCount:N0} validation / {config.Data.TestCount:N0} test |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| training | Adam, lr {o.LearningRate:G}, batch {o.BatchSize}, {o.Scheduler}, patience {o.Patience}, augment {o.Augment}{(o.Deskew ? ", deskew" : "")}, seed {o.Seed}, {o.Threads} threads, {summary.Device.ToString().ToLowerInvariant()} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| speed | {summary.TrainImagesPerSecond:N0} training images/s, {summary.TrainSeconds:F1} s of training, peak RSS {summary.PeakRssMegabytes:N0} MB |\n");
        md.AppendLine($"## Training curves\n\n![curves]({Rel(run.File(RunFigures.Curves))})\n");
        md.AppendLine($"## Confusion matrix (test set)\n\n![confusion]({Rel(run.File(RunFigures.Confusion))})\n");
        md.AppendLine($"## Most confident mistakes\n\n![mistakes]({Rel(run.File(RunFigures.Mistakes))})\n");
        md.AppendLine(CultureInfo.InvariantCulture, $"## Calibration (test set)\n\nExpected calibration error {summary.TestEce:P2} at temperature 1, {summary.TestEceCalibrated:P2} at the exported temperature {summary.Temperature:F2} (fitted on the validation split; 1 when fitting did not lower its error).\n\n![calibration]({Rel(run.File(RunFigures.Calibration))})\n");
        md.AppendLine($"## Architecture\n\n![architecture]({Rel(run.File(RunFigures.ArchitecturePng))}) ([SVG]({Rel(run.File(RunFigures.ArchitectureSvg))}))\n");
        md.AppendLine(CultureInfo.InvariantCulture, $"## Feature maps\n\nOf {note}, predicted **{maps.Prediction.Label}** ({maps.Prediction.Probability:P1}). What the net saw:\n\n![input]({Rel(run.File(Path.Combine(MapsFolder, "input.png")))})\n");
        foreach (var name in maps.Maps.Keys)
        {
            md.AppendLine($"![{name}]({Rel(run.File(Path.Combine(MapsFolder, name + ".png")))})\n");
        }

        if (sheet != null)
        {
            md.AppendLine($"## Predictions of the images given\n\n![predictions]({Rel(sheet)})\n");
        }

        return md.ToString();
    }
}
