using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using Google.Protobuf.Collections;

namespace Cnn.Export;

/// <summary>Fills the <see cref="ModelCard"/> of an export from the run and the export plan.</summary>
internal static class ModelCards
{
    /// <summary>This exporter's version, as cards name their producer.</summary>
    public static string ProducerVersion => typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static ModelCard Create(ExportPlan plan, RunConfig config, RunSummary? summary, ExportOptions options, string weightsSha256)
    {
        var json = new JsonSerializerOptions(RunFolder.Json) { WriteIndented = false };
        var model = config.Model;
        return new ModelCard
        {
            FormatVersion = ModelCard.CurrentFormatVersion,
            ModelName = model.Name,
            Dataset = config.Data.Dataset,
            Labels = config.Data.ClassNames,
            Input = new InputSpec
            {
                Name = OnnxNames.Input,
                Layout = OnnxNames.Layout,
                Shape = new TensorShape(model.InChannels, model.ImageSize, model.ImageSize),
                Range = new ValueRange(0, 1),
            },
            Normalization = new NormalizationSpec { Mean = config.Normalization.Mean, Std = config.Normalization.Std, InGraph = true },
            Preprocessing = config.Data.Preprocessing,
            Deskew = config.Training.Deskew,
            Temperature = OnnxExporter.TemperatureOf(summary),
            Features = [.. plan.Features.Select(f => new FeatureLayer(f.Name, new TensorShape((int)f.Shape[0], (int)f.Shape[1], (int)f.Shape[2])))],
            HasFeatureOutputs = false,
            WeightsSha256 = weightsSha256,
            TestAccuracy = summary?.TestAccuracy,
            UnsureBelow = options.UnsureBelow,
            Producer = new ProducerInfo
            {
                Name = OnnxExporter.ProducerName,
                Version = ProducerVersion,
                TrainedWith = $"TorchSharp {config.Versions.TorchSharp}",
                Opset = options.Opset,
            },
            ModelConfig = JsonSerializer.SerializeToElement(config.Model, json),
            TrainingConfig = JsonSerializer.SerializeToElement(config.Training, json),
        }.Validated("export");
    }

    /// <summary>SHA-256 over every initializer's name, type, shape and bytes, in graph order: the same for both files of a pair.</summary>
    public static string WeightsSha256(RepeatedField<TensorProto> initializers)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var tensor in initializers)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(tensor.Name));
            BitConverter.TryWriteBytes(number, (long)tensor.DataType);
            hash.AppendData(number);
            foreach (long d in tensor.Dims)
            {
                BitConverter.TryWriteBytes(number, d);
                hash.AppendData(number);
            }

            hash.AppendData(tensor.RawData.Span);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
