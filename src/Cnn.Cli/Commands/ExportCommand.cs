using System.ComponentModel;
using Cnn.Export;
using Cnn.Export.Quantization;
using Cnn.Train;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn export</c>.</summary>
public sealed class ExportSettings : CommandSettings
{
    [CommandArgument(0, "<RUN_DIR>")]
    [Description("Run folder written by `cnn train` (model.pt, config.json); several runs of one architecture trained with different seeds are exported as one ensemble that averages their probabilities. With --int8 also a float FILE.onnx written by `cnn export` whose run is gone (a single net; its card names the data set and split)")]
    public string[] Runs { get; init; } = [];

    [CommandOption("--out <FILE>")]
    [Description("ONNX file to write; FILE.features.onnx is written beside it. Default for one run: RUN_DIR/model.onnx; required for an ensemble")]
    public string? Out { get; init; }

    [CommandOption("--opset <N>")]
    [Description("ONNX opset, 13..21. Default: 17")]
    public int? Opset { get; init; }

    [CommandOption("--int8")]
    [Description("Write an int8 model instead: statically quantized in QDQ form (weights int8 per output channel, activations int8 per tensor), calibrated on the run's validation split (an ensemble's runs must share it); the feature maps stay float outputs")]
    public bool Int8 { get; init; }

    [CommandOption("--calibration <N>")]
    [Description("With --int8: how many validation images measure the activations' ranges. Default: all of them")]
    public int? Calibration { get; init; }

    [CommandOption("--calibration-method <M>")]
    [Description("With --int8: minmax (each activation's range from its smallest to its largest value), percentile (from its 0.001th to its 99.999th percentile) or entropy (from its smallest value to the upper cut whose 8-bit copy loses the least, by KL divergence). Default: minmax")]
    public CalibrationMethod? CalibrationMethod { get; init; }

    [CommandOption("--int8-activations <T>")]
    [Description("With --int8: int8 (S8S8, as ONNX Runtime recommends on x86) or uint8 (U8S8) activations. Default: int8")]
    public ActivationType? Int8Activations { get; init; }

    [CommandOption("--int8-weights <S>")]
    [Description("With --int8: one weight scale per output channel (channel) or per layer (tensor). Default: channel")]
    public WeightScales? Int8Weights { get; init; }

    [CommandOption("--data <DIR>")]
    [Description("With --int8 and a float FILE.onnx: the folder of the data set it was trained on, whose validation split (the card's split seed) calibrates it; checked by the training split's pixel mean. Default: the data set's own place (nothing is downloaded)")]
    public string? Data { get; init; }

    [CommandOption("--sources <DIR>")]
    [Description("With --int8 and a float FILE.onnx of --dataset handwriting: the outside handwriting collections' folder. Default: ~/.cache/cnn/handwriting-sources")]
    public string? Sources { get; init; }

    [CommandOption("--unsure-below <P>")]
    [Description("Written into the model card: the probability below which this model's answers are marked unsure (cnn predict, cnn serve and Cnn.Inference use it unless given another), chosen on data that did not train it. Default: none (readers use 0.9)")]
    public double? UnsureBelow { get; init; }

    /// <summary>An argument that names a model file rather than a run folder.</summary>
    internal static bool IsOnnxFile(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(path);

    internal QuantizationForm Form => new(Int8Activations ?? ActivationType.Int8, Int8Weights ?? WeightScales.Channel);

    internal ExportOptions Options
    {
        get
        {
            var defaults = new ExportOptions();
            return (defaults with { Opset = Opset ?? defaults.Opset, UnsureBelow = UnsureBelow }).Validated();
        }
    }

    public override ValidationResult Validate()
    {
        if ((Calibration != null || CalibrationMethod != null) && !Int8)
        {
            return ValidationResult.Error($"{(Calibration != null ? "--calibration" : "--calibration-method")} was given without --int8; it measures the ranges of an int8 model");
        }

        if ((Int8Activations != null || Int8Weights != null) && !Int8)
        {
            return ValidationResult.Error($"{(Int8Activations != null ? "--int8-activations" : "--int8-weights")} was given without --int8; it chooses the form of an int8 model");
        }

        if (Calibration is < Int8Exporter.MinCalibrationImages)
        {
            return ValidationResult.Error($"--calibration is {Calibration}; expected at least {Int8Exporter.MinCalibrationImages} images");
        }

        if (Runs.FirstOrDefault(IsOnnxFile) is { } file && (!Int8 || Runs.Length > 1))
        {
            return ValidationResult.Error(Int8
                ? $"{file} is an ONNX file among {Runs.Length} arguments; a float file is quantized alone (an ensemble from its runs)"
                : $"{file} is an ONNX file; a model file is exported again only in int8 (--int8), a float model from its run folder");
        }

        if ((Data != null || Sources != null) && !(Runs.Length == 1 && IsOnnxFile(Runs[0])))
        {
            return ValidationResult.Error($"{(Data != null ? "--data" : "--sources")} was given without a float FILE.onnx to quantize; a run folder records its own data");
        }

        if (Runs.Length > 1 && string.IsNullOrEmpty(Out))
        {
            return ValidationResult.Error($"--out is missing; an ensemble of {Runs.Length} runs has no run folder of its own to be written into");
        }

        try
        {
            _ = Options;
            return ValidationResult.Success();
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == nameof(ExportOptions.UnsureBelow))
        {
            return ValidationResult.Error($"--unsure-below is {UnsureBelow!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected a probability in (0, 1]");
        }
        catch (ArgumentOutOfRangeException)
        {
            return ValidationResult.Error($"--opset is {Opset}; expected {ExportOptions.MinOpset}..{ExportOptions.MaxOpset}");
        }
    }
}

/// <summary>
/// <c>cnn export</c>: writes model.onnx and model.features.onnx from a run's weights, or one ensemble pair from several
/// runs (measuring its accuracy on their test split).
/// </summary>
public sealed class ExportCommand(IAnsiConsole console) : AsyncCommand<ExportSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        // Surfaces a libtorch load failure as one message naming what is missing, before any tensor is made.
        TorchRuntime.EnsureLoaded();
        var result = settings.Int8 ? await ExportInt8Async(settings, cancellationToken)
            : settings.Runs.Length == 1 ? OnnxExporter.ExportRun(new RunFolder(settings.Runs[0]), settings.Out ?? new RunFolder(settings.Runs[0]).File("model.onnx"), settings.Options)
            : await ExportEnsembleAsync(settings, cancellationToken);
        if (result.Card.Quantization is { } q)
        {
            console.MarkupLineInterpolated($"int8 ({q.Format}): weights {q.Weights}; activations {q.Activations}; calibrated by {q.Calibration}");
        }

        if (result.Card.Members.Count > 0)
        {
            console.MarkupLineInterpolated($"ensemble of {result.Card.Members.Count} nets (seeds {string.Join(", ", result.Card.Members.Select(m => m.Seed))}): test accuracy {result.Card.TestAccuracy:P2}; the members' own: {string.Join(", ", result.Card.Members.Select(m => m.TestAccuracy?.ToString("P2", System.Globalization.CultureInfo.InvariantCulture) ?? "?"))}");
        }

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

    /// <summary>The run, or the runs' ensemble, in int8, calibrated on the (first) run's validation split (the first --calibration images of it).</summary>
    private static async Task<ExportResult> ExportInt8Async(ExportSettings settings, CancellationToken cancel)
    {
        if (ExportSettings.IsOnnxFile(settings.Runs[0]))
        {
            return await ExportFileInt8Async(settings, cancel);
        }

        using var loaded = RunModels.Load(settings.Runs);
        var runs = loaded.Runs;
        // Runs that kept different validation splits are refused before the data set is read.
        Int8Exporter.CheckOneValidationSplit(runs);
        var first = runs[0];
        using var data = await Cnn.Train.Data.Datasets.ReloadAsync(first.Config, cancel);
        var (images, count) = CalibrationImages(data, settings);
        var method = settings.CalibrationMethod ?? Cnn.Export.Quantization.CalibrationMethod.MinMax;
        return runs.Count == 1
            ? Int8Exporter.Export(first.Model, first.Config, first.Summary, settings.Out ?? Path.Combine(first.Path, "model.int8.onnx"), images, count, "validation", settings.Options, method, settings.Form)
            : Int8Exporter.ExportEnsemble(runs, settings.Out!, data.Test.Images, data.Test.Labels, images, count, "validation", settings.Options, method, settings.Form);
    }

    /// <summary>A float file of ours whose run is gone, in int8, calibrated on the validation split its card names.</summary>
    private static async Task<ExportResult> ExportFileInt8Async(ExportSettings settings, CancellationToken cancel)
    {
        var file = FloatModelFile.Read(settings.Runs[0]);
        using var data = await file.LoadDataAsync(new Cnn.Train.Data.DataRequest(settings.Data, SourcesFolder: settings.Sources), cancel);
        var (images, count) = CalibrationImages(data, settings);
        var options = settings.Options with { Opset = settings.Opset ?? file.Opset };
        string output = settings.Out ?? Path.ChangeExtension(file.Path, null) + ".int8.onnx";
        return Int8Exporter.ExportFile(file, data.Info, output, images, count, "validation", options, settings.CalibrationMethod ?? Cnn.Export.Quantization.CalibrationMethod.MinMax, settings.Form);
    }

    /// <summary>The first --calibration images of the validation split, as the [0, 1] floats the model reads.</summary>
    private static (float[] Images, int Count) CalibrationImages(TrainingData data, ExportSettings settings)
    {
        int count = (int)Math.Min(settings.Calibration ?? long.MaxValue, data.Validation.Count);
        using var scope = TorchSharp.torch.NewDisposeScope();
        return (data.Validation.Images.narrow(0, 0, count).to_type(TorchSharp.torch.ScalarType.Float32).div(255f).contiguous().data<float>().ToArray(), count);
    }

    private static async Task<ExportResult> ExportEnsembleAsync(ExportSettings settings, CancellationToken cancel)
    {
        using var members = RunModels.Load(settings.Runs);
        // The runs share the test split (checked by the exporter: same data, same deskewing), so the first's serves.
        using var data = await Cnn.Train.Data.Datasets.ReloadAsync(members.Runs[0].Config, cancel);
        return EnsembleExporter.Export(members.Runs, settings.Out!, data.Test.Images, data.Test.Labels, settings.Options);
    }
}
