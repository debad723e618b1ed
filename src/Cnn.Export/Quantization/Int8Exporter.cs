using Cnn.Contracts;
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
        form ??= new QuantizationForm();
        // Per-channel DequantizeLinear needs opset 13, which is also the exporter's oldest.
        options = (options ?? new ExportOptions()).Validated();
        if (count < MinCalibrationImages)
        {
            throw new ArgumentException($"calibration has {count} images of the {split} split; expected at least {MinCalibrationImages}");
        }

        model.to(CPU);
        model.eval();
        var plan = ExportPlan.Create(model, [config.Model.InChannels, config.Model.ImageSize, config.Model.ImageSize]);
        double temperature = OnnxExporter.TemperatureOf(summary);
        var plain = OnnxExporter.BuildGraph(plan, config, temperature, withFeatures: false);
        var features = OnnxExporter.BuildGraph(plan, config, temperature, withFeatures: true);
        bool floatFirst = plain.Node.Any(n => QdqQuantizer.StaysFloat(plain, n));
        var card = ModelCards.Create(plan, config, summary, options, ModelCards.WeightsSha256(plain.Initializer)) with
        {
            Quantization = new QuantizationSpec
            {
                Format = "QDQ",
                Weights = (form.Weights == WeightScales.Channel ? "int8, symmetric, per output channel; biases int32" : "int8, symmetric, per layer; biases int32")
                    + (floatFirst ? "; a convolution of one input channel stays float" : ""),
                Activations = form.Activations == ActivationType.Int8 ? "int8, per tensor" : "uint8, per tensor",
                Calibration = method == CalibrationMethod.MinMax
                    ? FormattableString.Invariant($"min-max over {count:N0} images of the {split} split")
                    : FormattableString.Invariant($"0.001th to 99.999th percentile over {count:N0} images of the {split} split"),
            },
        };
        var shape = card.Input.Shape;
        var fp32 = OnnxExporter.Wrap(plain, card, config, options);
        // Batch norms are folded first, so the activations measured are those of the convolutions that will run; the
        // float graph computes every one of them under the same name.
        var folded = QdqQuantizer.FoldBatchNorms(plain);
        var ranges = Calibrator.Ranges(method, fp32, QdqQuantizer.Activations(folded), calibration, count, shape);
        var quantized = QdqQuantizer.Quantize(folded, ranges, form);
        var quantizedFeatures = QdqQuantizer.Quantize(QdqQuantizer.FoldBatchNorms(features), ranges, form);
        return OnnxExporter.WritePair(modelPath, quantized, quantizedFeatures, plan.Features, card, config, options);
    }
}
