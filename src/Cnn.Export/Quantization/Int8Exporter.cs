using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Export.Quantization;

/// <summary>
/// Writes an int8 version of a trained model, statically quantized in QDQ form (<see cref="QdqQuantizer"/>) with the
/// activation ranges measured on images of its validation split (<see cref="Calibrator"/>): FILE.onnx and its features
/// sibling, whose named maps stay float outputs. The card says it is quantized, how, and on what.
/// </summary>
public static class Int8Exporter
{
    /// <summary>The fewest calibration images: fewer give ranges that the next images overrun.</summary>
    public const int MinCalibrationImages = 64;

    /// <summary>
    /// Exports <paramref name="model"/> in int8, calibrated on <paramref name="count"/> images of
    /// <paramref name="calibration"/> (raw [C, H, W] floats, images of the <paramref name="split"/> split), each
    /// activation's range chosen by <paramref name="method"/>.
    /// </summary>
    public static ExportResult Export(nn.Module<Tensor, Tensor> model, RunConfig config, RunSummary? summary, string modelPath, float[] calibration, int count, string split, ExportOptions? options = null, CalibrationMethod method = CalibrationMethod.MinMax, QuantizationForm? form = null)
    {
        // Per-channel DequantizeLinear needs opset 13, which is also the exporter's oldest.
        options = (options ?? new ExportOptions()).Validated();
        CheckCount(count, split);
        model.to(CPU);
        model.eval();
        var plan = ExportPlan.Create(model, [config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize]);
        double temperature = OnnxExporter.TemperatureOf(summary);
        var plain = OnnxExporter.BuildGraph(plan, config, temperature, withFeatures: false);
        var features = OnnxExporter.BuildGraph(plan, config, temperature, withFeatures: true);
        var card = ModelCards.Create(plan, config, summary, options, ModelCards.WeightsSha256(plain.Initializer));
        return Write(new FloatModel(plain, features, plan.Features, card, config), modelPath, new Calibration(calibration, count, split, method), options, form);
    }

    /// <summary>
    /// Exports the ensemble of <paramref name="members"/> (as <see cref="EnsembleExporter"/> writes it in float, its
    /// accuracy measured on <paramref name="testImages"/>) in int8, calibrated on <paramref name="count"/> images of
    /// <paramref name="calibration"/>, which must be the validation split all of them left out of training.
    /// </summary>
    /// <exception cref="ArgumentException">Too few images, runs that cannot be one ensemble, or runs that kept different validation splits.</exception>
    public static ExportResult ExportEnsemble(IReadOnlyList<RunModel> members, string modelPath, Tensor testImages, Tensor testLabels, float[] calibration, int count, string split, ExportOptions? options = null, CalibrationMethod method = CalibrationMethod.MinMax, QuantizationForm? form = null)
    {
        options = (options ?? new ExportOptions()).Validated();
        CheckCount(count, split);
        CheckOneValidationSplit(members);
        var (plain, features, card) = EnsembleExporter.FloatGraphs(members, testImages, testLabels, options);
        var first = members[0];
        return Write(new FloatModel(plain, features, first.Plan.Features, card, first.Config), modelPath, new Calibration(calibration, count, split, method), options, form);
    }

    /// <summary>
    /// Exports the float model of <paramref name="file"/> (written by <c>cnn export</c>, its run gone) in int8, calibrated
    /// on <paramref name="count"/> images of <paramref name="calibration"/>, which <paramref name="data"/> describes
    /// (<see cref="FloatModelFile.LoadDataAsync"/>). The card is the float file's with the quantization added, its unsure
    /// threshold kept unless <paramref name="options"/> gives one: from a run's own export the result is byte for byte
    /// what <see cref="Export"/> writes from the run.
    /// </summary>
    /// <exception cref="ArgumentException">Too few calibration images.</exception>
    public static ExportResult ExportFile(FloatModelFile file, DataInfo data, string modelPath, float[] calibration, int count, string split, ExportOptions? options = null, CalibrationMethod method = CalibrationMethod.MinMax, QuantizationForm? form = null)
    {
        options = (options ?? new ExportOptions()).Validated();
        CheckCount(count, split);
        // The card is written anew, in this version's format: the quantization it adds is a field of a later format.
        var card = file.Card with
        {
            FormatVersion = ModelCard.CurrentFormatVersion,
            UnsureBelow = options.UnsureBelow ?? file.Card.UnsureBelow,
            Producer = file.Card.Producer with { Version = ModelCards.ProducerVersion, Opset = options.Opset },
        };
        return Write(new FloatModel(file.Plain, file.Features, file.FeatureOutputs, card, file.ConfigFor(data)), modelPath, new Calibration(calibration, count, split, method), options, form);
    }

    /// <summary>
    /// The calibration images are one validation split, so the members must have kept the same one: otherwise one
    /// net's ranges would be measured on images it trained on, and the card's "validation split" would be untrue.
    /// <see cref="ExportEnsemble"/> checks it; a caller may check first, before it reads the data.
    /// </summary>
    /// <exception cref="ArgumentException">A run kept another split seed or fraction than the first, naming both.</exception>
    public static void CheckOneValidationSplit(IReadOnlyList<RunModel> members)
    {
        static (long Seed, double Fraction) SplitOf(RunModel m) => (m.Config.Training.SplitSeed ?? m.Config.Training.Seed, m.Config.Training.ValidationFraction);
        var first = SplitOf(members[0]);
        foreach (var m in members.Skip(1).Where(m => SplitOf(m) != first))
        {
            var other = SplitOf(m);
            throw new ArgumentException(FormattableString.Invariant(
                $"{m.Path}: kept the validation split of split seed {other.Seed} ({other.Fraction:P1}); {members[0].Path} that of split seed {first.Seed} ({first.Fraction:P1}); an int8 ensemble is calibrated on one validation split that none of its nets trained on (train them with the same --split-seed)"));
        }
    }

    private static void CheckCount(int count, string split)
    {
        if (count < MinCalibrationImages)
        {
            throw new ArgumentException($"calibration has {count} images of the {split} split; expected at least {MinCalibrationImages}");
        }
    }

    /// <summary>A float model as built for export, before it is quantized.</summary>
    private sealed record FloatModel(GraphProto Plain, GraphProto Features, IReadOnlyList<NamedOutput> FeatureOutputs, ModelCard Card, RunConfig Config);

    /// <summary>The images the activations' ranges are measured on, and how.</summary>
    private sealed record Calibration(float[] Images, int Count, string Split, CalibrationMethod Method);

    private static ExportResult Write(FloatModel model, string modelPath, Calibration calibration, ExportOptions options, QuantizationForm? form)
    {
        form ??= new QuantizationForm();
        var (plain, features) = (model.Plain, model.Features);
        bool floatFirst = plain.Node.Any(n => QdqQuantizer.StaysFloat(plain, n));
        var card = model.Card with
        {
            Quantization = new QuantizationSpec
            {
                Format = "QDQ",
                Weights = (form.Weights == WeightScales.Channel ? "int8, symmetric, per output channel; biases int32" : "int8, symmetric, per layer; biases int32")
                    + (floatFirst ? "; a convolution of one input channel stays float" : ""),
                Activations = form.Activations == ActivationType.Int8 ? "int8, per tensor" : "uint8, per tensor",
                Calibration = calibration.Method switch
                {
                    CalibrationMethod.MinMax => "min-max",
                    CalibrationMethod.Percentile => "0.001th to 99.999th percentile",
                    _ => "entropy (upper cut of least KL divergence)",
                } + FormattableString.Invariant($" over {calibration.Count:N0} images of the {calibration.Split} split"),
            },
        };
        var fp32 = OnnxExporter.Wrap(plain, card, model.Config, options);
        // Batch norms are folded first, so the activations measured are those of the convolutions that will run; the
        // float graph computes every one of them under the same name.
        var folded = QdqQuantizer.FoldBatchNorms(plain);
        var ranges = Calibrator.Ranges(calibration.Method, fp32, QdqQuantizer.Activations(folded), calibration.Images, calibration.Count, card.Input.Shape);
        var quantized = QdqQuantizer.Quantize(folded, ranges, form);
        var quantizedFeatures = QdqQuantizer.Quantize(QdqQuantizer.FoldBatchNorms(features), ranges, form);
        return OnnxExporter.WritePair(modelPath, quantized, quantizedFeatures, model.FeatureOutputs, card, model.Config, options);
    }
}
