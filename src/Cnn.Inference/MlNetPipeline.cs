using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Cnn.Inference;

/// <summary>The ML.NET input row: the path of an image file.</summary>
public sealed class ImageFileInput
{
    public string ImagePath { get; set; } = "";
}

/// <summary>The ML.NET output row of a prediction.</summary>
public sealed class ProbabilitiesOutput
{
    [ColumnName(CnnModel.ProbabilitiesOutput)]
    public float[] Probabilities { get; set; } = [];
}

/// <summary>
/// The same model as an ML.NET pipeline: LoadImages → ResizeImages → (ConvertToGrayscale) → ExtractPixels (scaled to
/// [0, 1]) → ApplyOnnxModel with named outputs. It resizes images as they are, without the handwriting preprocessing
/// of <see cref="CnnModel.Prepare(string)"/>. Owns ML.NET's ONNX session: dispose it.
/// </summary>
public sealed class MlNetPipeline : IDisposable
{
    private const string ImageColumn = "Image";
    private readonly MLContext _ml = new(seed: 0);
    private readonly ITransformer _transformer;
    private readonly CnnModel _model;

    /// <param name="onnxPath">The ONNX file; for feature maps, the .features.onnx one.</param>
    /// <param name="model">The same file loaded as a <see cref="CnnModel"/>, for its shape and labels.</param>
    /// <param name="outputs">The outputs to compute; default probabilities only.</param>
    public MlNetPipeline(string onnxPath, CnnModel model, IEnumerable<string>? outputs = null)
    {
        _model = model;
        Outputs = (outputs ?? [CnnModel.ProbabilitiesOutput]).ToArray();
        bool gray = model.Channels == 1;
        var pipeline = _ml.Transforms.LoadImages(ImageColumn, imageFolder: "", inputColumnName: nameof(ImageFileInput.ImagePath))
            .Append(_ml.Transforms.ResizeImages(ImageColumn, model.Width, model.Height, inputColumnName: ImageColumn, resizing: ImageResizingEstimator.ResizingKind.Fill));
        var pixels = gray
            ? pipeline.Append(_ml.Transforms.ConvertToGrayscale(ImageColumn, ImageColumn))
                .Append(_ml.Transforms.ExtractPixels(CnnModel.InputName, ImageColumn, ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
            : pipeline.Append(_ml.Transforms.ExtractPixels(CnnModel.InputName, ImageColumn, ImagePixelExtractingEstimator.ColorBits.Rgb,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, scaleImage: 1f / 255));
        var estimator = pixels.Append(_ml.Transforms.ApplyOnnxModel(
            outputColumnNames: Outputs.ToArray(),
            inputColumnNames: [CnnModel.InputName],
            modelFile: onnxPath,
            shapeDictionary: new Dictionary<string, int[]> { [CnnModel.InputName] = [1, model.Channels, model.Height, model.Width] },
            gpuDeviceId: null,
            fallbackToCpu: true,
            recursionLimit: 100));
        _transformer = estimator.Fit(_ml.Data.LoadFromEnumerable(Array.Empty<ImageFileInput>()));
    }

    public IReadOnlyList<string> Outputs { get; }

    /// <summary>A prediction engine (not thread-safe: one per thread) giving the probabilities of one image file.</summary>
    public PredictionEngine<ImageFileInput, ProbabilitiesOutput> CreatePredictionEngine() =>
        _ml.Model.CreatePredictionEngine<ImageFileInput, ProbabilitiesOutput>(_transformer);

    /// <summary>Predicts image files through the pipeline.</summary>
    public IReadOnlyList<Prediction> Predict(IEnumerable<string> imagePaths) =>
        Column(imagePaths, CnnModel.ProbabilitiesOutput).Select(p => Prediction.FromProbabilities(p, _model.Labels)).ToList();

    /// <summary>The values of one output for each image, flattened as the model gives them.</summary>
    public IReadOnlyList<float[]> Column(IEnumerable<string> imagePaths, string output)
    {
        if (!Outputs.Contains(output))
        {
            throw new UnknownOutputException($"the pipeline computes {string.Join(", ", Outputs)}; '{output}' is not among them");
        }

        var data = _ml.Data.LoadFromEnumerable(imagePaths.Select(p => new ImageFileInput { ImagePath = Path.GetFullPath(p) }));
        return _transformer.Transform(data).GetColumn<float[]>(output).ToList();
    }

    public void Dispose() => (_transformer as IDisposable)?.Dispose();
}
