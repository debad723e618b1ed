using Cnn.Contracts;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Cnn.Inference.MLNet;

/// <summary>The ML.NET input row: the path of an image file.</summary>
public sealed class ImageFileInput
{
    /// <summary>The image file to read.</summary>
    public string ImagePath { get; set; } = "";
}

/// <summary>The ML.NET output row of a prediction.</summary>
public sealed class ProbabilitiesOutput
{
    /// <summary>Every class's probability, in the model's label order.</summary>
    [ColumnName(OnnxNames.Probabilities)]
    public float[] Probabilities { get; set; } = [];
}

/// <summary>
/// The same model as an ML.NET pipeline: LoadImages → ResizeImages → (ConvertToGrayscale) → ExtractPixels (scaled to
/// [0, 1]) → ApplyOnnxModel with named outputs. It resizes images as they are, without the handwriting preprocessing
/// of <see cref="ImagePreprocessor.Prepare(DecodedImage)"/> (nor the deskewing a model card may ask for), so it suits images
/// already in the model's training format. Owns ML.NET's ONNX session: dispose it.
/// </summary>
public sealed class MlNetPipeline : IDisposable
{
    private const string ImageColumn = "Image";
    private readonly MLContext _ml = new(seed: 0);
    private readonly ITransformer _transformer;
    private readonly CnnModel _model;

    /// <summary>Builds and fits the pipeline over <paramref name="onnxPath"/>.</summary>
    /// <param name="onnxPath">The ONNX file; for feature maps, the .features.onnx one.</param>
    /// <param name="model">The same file loaded as a <see cref="CnnModel"/>, for its input shape and labels.</param>
    /// <param name="outputs">The outputs to compute; default probabilities only.</param>
    public MlNetPipeline(string onnxPath, CnnModel model, IEnumerable<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Card.Output != null)
        {
            // ML.NET feeds the graph's input directly: another producer's names, layout and normalisation would need
            // the adaptation CnnModel does itself.
            throw new NotSupportedException($"{model.Source}: a model of another producer (described by its card) is read through CnnModel, not the ML.NET pipeline");
        }

        _model = model;
        Outputs = [.. outputs ?? [OnnxNames.Probabilities]];
        var shape = model.Card.Input.Shape;
        var pipeline = _ml.Transforms.LoadImages(ImageColumn, imageFolder: "", inputColumnName: nameof(ImageFileInput.ImagePath))
            .Append(_ml.Transforms.ResizeImages(ImageColumn, shape.Width, shape.Height, inputColumnName: ImageColumn, resizing: ImageResizingEstimator.ResizingKind.Fill));
        var pixels = shape.Channels == 1
            ? pipeline.Append(_ml.Transforms.ConvertToGrayscale(ImageColumn, ImageColumn))
                .Append(_ml.Transforms.ExtractPixels(OnnxNames.Input, ImageColumn, ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
            : pipeline.Append(_ml.Transforms.ExtractPixels(OnnxNames.Input, ImageColumn, ImagePixelExtractingEstimator.ColorBits.Rgb,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, scaleImage: 1f / 255));
        var estimator = pixels.Append(_ml.Transforms.ApplyOnnxModel(
            outputColumnNames: [.. Outputs],
            inputColumnNames: [OnnxNames.Input],
            modelFile: onnxPath,
            shapeDictionary: new Dictionary<string, int[]> { [OnnxNames.Input] = [1, shape.Channels, shape.Height, shape.Width] },
            gpuDeviceId: null,
            fallbackToCpu: true,
            recursionLimit: 100));
        _transformer = estimator.Fit(_ml.Data.LoadFromEnumerable(Array.Empty<ImageFileInput>()));
    }

    /// <summary>The model outputs the pipeline computes.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>A prediction engine (not thread-safe: one per thread) giving the probabilities of one image file.</summary>
    /// <returns>ML.NET's engine over this pipeline.</returns>
    public PredictionEngine<ImageFileInput, ProbabilitiesOutput> CreatePredictionEngine() =>
        _ml.Model.CreatePredictionEngine<ImageFileInput, ProbabilitiesOutput>(_transformer);

    /// <summary>Predicts image files through the pipeline.</summary>
    /// <param name="imagePaths">Image files.</param>
    /// <returns>One prediction per file, in order.</returns>
    public IReadOnlyList<Prediction> Predict(IEnumerable<string> imagePaths) =>
        [.. Column(imagePaths, OnnxNames.Probabilities).Select(p => Prediction.FromProbabilities(p, _model.Labels, _model.MinProbability))];

    /// <summary>The values of one output for each image, flattened as the model gives them.</summary>
    /// <param name="imagePaths">Image files.</param>
    /// <param name="output">One of <see cref="Outputs"/>.</param>
    /// <returns>One array per file.</returns>
    /// <exception cref="UnknownOutputException">The pipeline does not compute <paramref name="output"/>.</exception>
    public IReadOnlyList<float[]> Column(IEnumerable<string> imagePaths, string output)
    {
        if (!Outputs.Contains(output))
        {
            throw new UnknownOutputException($"the pipeline computes {string.Join(", ", Outputs)}; '{output}' is not among them");
        }

        var data = _ml.Data.LoadFromEnumerable(imagePaths.Select(p => new ImageFileInput { ImagePath = Path.GetFullPath(p) }));
        return [.. _transformer.Transform(data).GetColumn<float[]>(output)];
    }

    /// <summary>Releases ML.NET's ONNX session.</summary>
    public void Dispose() => (_transformer as IDisposable)?.Dispose();
}
