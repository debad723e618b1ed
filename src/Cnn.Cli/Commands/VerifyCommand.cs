using System.ComponentModel;
using System.Globalization;
using Cnn.Export;
using Cnn.Export.Quantization;
using Cnn.Train;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn verify</c>.</summary>
public sealed class VerifySettings : CommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("ONNX file written by `cnn export`; its .features.onnx sibling is verified too when present")]
    public string File { get; init; } = "";

    [CommandOption("--run <RUN_DIR>")]
    [Description("The run folder the file was exported from (weights, normalisation, test images). Required (for an int8 file whose run is gone: --float); repeat it for each run of an ensemble, in the order they were exported")]
    public string[] Run { get; init; } = [];

    [CommandOption("--float <FILE>")]
    [Description("An int8 file whose run is gone: the float ONNX file it was quantized from (`cnn export FILE.onnx --int8`), read by ONNX Runtime, in place of --run")]
    public string? Float { get; init; }

    [CommandOption("--data <DIR>")]
    [Description("With --float: the folder of the data set the model was trained on. Default: the data set's own place")]
    public string? Data { get; init; }

    [CommandOption("--sources <DIR>")]
    [Description("With --float and --dataset handwriting: the outside handwriting collections' folder. Default: ~/.cache/cnn/handwriting-sources")]
    public string? Sources { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the random inputs. Default: 0")]
    [DefaultValue(0L)]
    public long Seed { get; init; }

    [CommandOption("--split <S>")]
    [Description("An int8 file: the split its answers are compared on, test or validation (to choose between int8 exports, e.g. calibration methods, without reading the test split). Default: test")]
    public string? Split { get; init; }

    public override ValidationResult Validate() =>
        Run.Length == 0 && Float == null ? ValidationResult.Error("--run is missing; expected the run folder the ONNX file was exported from")
        : Run.Length > 0 && Float != null ? ValidationResult.Error("--run and --float were both given; an int8 file is compared with its run's model or, when the run is gone, with the float file it came from")
        : (Data != null || Sources != null) && Float == null ? ValidationResult.Error($"{(Data != null ? "--data" : "--sources")} was given without --float; a run folder records its own data")
        : Split is not (null or "test" or "validation") ? ValidationResult.Error($"--split is '{Split}'; expected test or validation")
        : ValidationResult.Success();
}

/// <summary>
/// <c>cnn verify</c>: runs real test images and random inputs (batches 1, 7, 64) through TorchSharp and ONNX Runtime
/// and compares every output; exits 1 when any element is off by more than 1e-5 absolute and 1e-4 relative.
/// </summary>
public sealed class VerifyCommand(IAnsiConsole console) : AsyncCommand<VerifySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, VerifySettings settings, CancellationToken cancellationToken)
    {
        // Surfaces a libtorch load failure as one message naming what is missing, before any tensor is made.
        TorchRuntime.EnsureLoaded();
        if (settings.Float != null)
        {
            return await VerifyAgainstFloatFileAsync(settings, cancellationToken);
        }

        using var loaded = RunModels.Load(settings.Run);
        return await VerifyAsync(settings, loaded.Runs, cancellationToken);
    }

    private async Task<int> VerifyAsync(VerifySettings settings, IReadOnlyList<RunModel> runs, CancellationToken cancellationToken)
    {
        CheckRunCount(settings.File, runs.Count);
        bool int8 = IsInt8(settings.File);
        if (!int8 && settings.Split != null)
        {
            throw new ArgumentException($"--split is given for {settings.File}, a float file; a float file is compared element by element on the test split and random inputs, --split chooses the split for an int8 file");
        }

        using var data = await Cnn.Train.Data.Datasets.ReloadAsync(runs[0].Config, cancellationToken);
        var files = Int8Files(settings.File);
        if (int8)
        {
            var split = settings.Split == "validation" ? data.Validation : data.Test;
            return ReportInt8(files, settings.Split ?? "test", file => Int8Verifier.Verify(file, runs, split.Images, split.Labels));
        }

        bool passed = true;
        foreach (var file in files)
        {
            var report = OnnxVerifier.Verify(file, runs, data.Test.Images, settings.Seed);
            passed &= report.Passed;
            console.MarkupLineInterpolated($"[bold]{report.File}[/]: {string.Join(", ", report.Cases)}");
            var table = new Table().AddColumns("output", "shape", "max abs error", "max rel error", "elements over tolerance");
            foreach (var o in report.Outputs)
            {
                table.AddRow(
                    Markup.Escape(o.Name),
                    Markup.Escape($"[N, {string.Join(", ", o.Shape)}]"),
                    o.MaxAbsError.ToString("E2", CultureInfo.InvariantCulture),
                    o.MaxRelError.ToString("E2", CultureInfo.InvariantCulture),
                    o.Passed ? "[green]0[/]" : $"[red]{o.Violations:N0} of {o.Elements:N0}[/]");
            }

            console.Write(table);
        }

        string tolerance = $"abs ≤ {OnnxVerifier.AbsTolerance:E0} or rel ≤ {OnnxVerifier.RelTolerance:E0} per element, fp32";
        if (passed)
        {
            console.MarkupLineInterpolated($"[green]verified[/] ({tolerance})");
        }
        else
        {
            console.MarkupLineInterpolated($"[red]FAILED[/]: outputs differ beyond {tolerance}");
        }

        return passed ? 0 : 1;
    }

    /// <summary>An int8 file quantized from a float file (its run gone) is compared with that file, on the split its card names.</summary>
    private async Task<int> VerifyAgainstFloatFileAsync(VerifySettings settings, CancellationToken cancel)
    {
        if (!IsInt8(settings.File))
        {
            throw new ArgumentException($"--float is given for {settings.File}, which is not an int8 file; a float file is verified against its run (--run)");
        }

        var source = FloatModelFile.Read(settings.Float!);
        using var data = await source.LoadDataAsync(new Cnn.Train.Data.DataRequest(settings.Data, SourcesFolder: settings.Sources), cancel);
        var split = settings.Split == "validation" ? data.Validation : data.Test;
        return ReportInt8(Int8Files(settings.File), settings.Split ?? "test", file => Int8Verifier.VerifyAgainstFile(file, source.Path, split.Images, split.Labels));
    }

    /// <summary>The file and its features sibling, when there is one.</summary>
    private static List<string> Int8Files(string file)
    {
        var files = new List<string> { file };
        string features = Cnn.Contracts.OnnxNames.FeaturesPathFor(file);
        if (System.IO.File.Exists(features) && Path.GetFullPath(features) != Path.GetFullPath(file))
        {
            files.Add(features);
        }

        return files;
    }

    /// <summary>An int8 file is compared with its float model (one run, their ensemble, or the float file) by its answers and maps on a whole split, not element by element at fp32 tolerance.</summary>
    private int ReportInt8(List<string> files, string split, Func<string, Int8Report> verify)
    {
        bool passed = true;
        foreach (var file in files)
        {
            var report = verify(file);
            passed &= report.Passed;
            console.MarkupLineInterpolated($"[bold]{report.File}[/] (int8) on {report.Images:N0} {split} images: the float model's label for {report.Agreement:P2}; accuracy {report.FloatAccuracy:P2} → {report.Int8Accuracy:P2} ({report.AccuracyChange.ToString("+0.00;-0.00", CultureInfo.InvariantCulture)} points)");
            foreach (var (map, error) in report.MapErrors)
            {
                console.MarkupLineInterpolated($"  {map}: mean error {error.Mean:P2}, largest {error.Max:P2} of the map's largest value");
            }
        }

        string bound = $"at most {Int8Report.MaxAccuracyLoss.ToString(CultureInfo.InvariantCulture)} points of accuracy lost, maps' mean error within {Int8Report.MaxMapError:P0} of their largest value";
        if (passed)
        {
            console.MarkupLineInterpolated($"[green]verified[/] ({bound})");
        }
        else
        {
            console.MarkupLineInterpolated($"[red]FAILED[/]: beyond {bound}");
        }
        return passed ? 0 : 1;
    }

    private static bool IsInt8(string file)
    {
        try
        {
            var card = OnnxFile.Read(file).MetadataProps.FirstOrDefault(p => p.Key == Cnn.Contracts.OnnxNames.ModelCardKey)?.Value;
            return card != null && Cnn.Contracts.ModelCard.FromJson(card, file).Quantization != null;
        }
        catch (Exception e) when (e is InvalidDataException or Cnn.Contracts.ModelCardException or IOException)
        {
            // Not a model file of ours, or not there: the float verification says what is wrong with it.
            return false;
        }
    }

    /// <summary>An ensemble verified against fewer or more runs than it holds would only show mismatches: say so instead.</summary>
    private static void CheckRunCount(string file, int runs)
    {
        if (!System.IO.File.Exists(file))
        {
            return;
        }

        int members;
        try
        {
            var card = OnnxFile.Read(file).MetadataProps.FirstOrDefault(p => p.Key == Cnn.Contracts.OnnxNames.ModelCardKey)?.Value;
            members = card == null ? 0 : Cnn.Contracts.ModelCard.FromJson(card, file).Members.Count;
        }
        catch (Exception e) when (e is InvalidDataException or Cnn.Contracts.ModelCardException)
        {
            // Not a model file of ours: the verification itself says what is wrong with it.
            return;
        }

        if (Math.Max(members, 1) != runs)
        {
            throw new ArgumentException(members > 0
                ? $"{file} is an ensemble of {members} nets; give --run for each of them ({members}), in the order they were exported"
                : $"{file} is a single net; give the one --run it was exported from, not {runs}");
        }
    }
}
