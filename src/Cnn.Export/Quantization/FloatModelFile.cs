using System.Text.Json;
using Cnn.Contracts;
using Cnn.Export.Onnx;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;

namespace Cnn.Export.Quantization;

/// <summary>
/// A float model as <c>cnn export</c> wrote it — FILE.onnx and FILE.features.onnx — read back to be quantized when its
/// run folder is gone (the shipped models'). The card carries the architecture and the training options, which name
/// the data set and the validation split the activations are calibrated on, and the training split's pixel mean and
/// deviation, by which <see cref="LoadDataAsync"/> checks that it reloaded the images the net trained on.
/// </summary>
public sealed class FloatModelFile
{
    /// <summary>Every operator the float exporter writes, which the quantizer knows how to treat.</summary>
    private static readonly HashSet<string> Handled =
        ["Sub", "Div", "Conv", "BatchNormalization", "Relu", "Tanh", "Sigmoid", "MaxPool", "AveragePool", "Flatten", "Gemm", "Softmax", "Mean", "Log"];

    private static readonly HashSet<string> Quantized =
        ["QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear"];

    private FloatModelFile(string path, GraphProto plain, GraphProto features, ModelCard card, ModelConfig model, TrainOptions training, int opset)
    {
        Path = path;
        Plain = plain;
        Features = features;
        Card = card;
        Model = model;
        Training = training;
        Opset = opset;
    }

    /// <summary>The float model file (its features sibling is beside it).</summary>
    public string Path { get; }

    /// <summary>The model card of the pair.</summary>
    public ModelCard Card { get; }

    /// <summary>The architecture the card recorded.</summary>
    public ModelConfig Model { get; }

    /// <summary>The training options the card recorded: the data set's split seed and validation fraction among them.</summary>
    public TrainOptions Training { get; }

    /// <summary>The file's ONNX opset, which an int8 copy keeps unless told otherwise.</summary>
    public int Opset { get; }

    internal GraphProto Plain { get; }

    internal GraphProto Features { get; }

    /// <summary>Reads FILE.onnx and its features sibling and checks that they are one float export of a single net.</summary>
    /// <exception cref="InvalidDataException">Not a float pair of one net written by <c>cnn export</c>, naming the file and why.</exception>
    /// <exception cref="FileNotFoundException">The file or its features sibling is missing.</exception>
    public static FloatModelFile Read(string path)
    {
        var plain = OnnxFile.Read(path);
        var card = CardOf(plain, path);
        string featuresPath = OnnxNames.FeaturesPathFor(path);
        if (!File.Exists(featuresPath))
        {
            throw new FileNotFoundException($"{featuresPath} not found; an int8 export quantizes both files of a pair, so it expects the float features file beside {path}", featuresPath);
        }

        var features = OnnxFile.Read(featuresPath);
        var featuresCard = CardOf(features, featuresPath);
        if (featuresCard.WeightsSha256 != card.WeightsSha256)
        {
            throw new InvalidDataException($"{featuresPath}: holds other weights than {path} (weights SHA-256 {featuresCard.WeightsSha256[..12]}… against {card.WeightsSha256[..12]}…); expected the pair one export wrote");
        }

        var model = Options<ModelConfig>(card.ModelConfig, path, "architecture");
        var training = Options<TrainOptions>(card.TrainingConfig, path, "training options");
        int opset = (int)(plain.OpsetImport.FirstOrDefault(o => o.Domain.Length == 0)?.Version ?? 0);
        return new FloatModelFile(System.IO.Path.GetFullPath(path), plain.Graph, features.Graph, card with { HasFeatureOutputs = false }, model, training, opset);
    }

    /// <summary>
    /// Reads the data set the card names with the card's split (from <paramref name="request"/>'s folder, or the data
    /// set's default place; nothing is downloaded) and checks that its training split has the pixel mean and deviation
    /// the net was trained with, so the validation split is the one it left out.
    /// </summary>
    /// <exception cref="InvalidDataException">The data set is unknown, or the images are not the ones the net trained on.</exception>
    public async Task<TrainingData> LoadDataAsync(DataRequest request, CancellationToken cancel = default)
    {
        var dataset = Datasets.Find(Card.Dataset)
            ?? throw new InvalidDataException($"{Path}: was trained on data set '{Card.Dataset}', which this version of cnn does not know; expected one of {string.Join(", ", Datasets.All.Select(d => d.Name))}");
        var labels = Card.Labels.Count == Cifar100.FineClasses.Count ? CifarLabels.Fine : CifarLabels.Coarse;
        var data = await dataset.LoadAsync(request with { Labels = labels }, Training, downloader: null, cancel).ConfigureAwait(false);
        try
        {
            CheckSameImages(data);
            return data;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>The run configuration the export path writes from: the card's net and options on <paramref name="data"/>.</summary>
    internal RunConfig ConfigFor(DataInfo data) =>
        new(Model, Training, data, new Normalization(Card.Normalization.Mean, Card.Normalization.Std), VersionInfo.Current());

    /// <summary>The named maps as the export path lists them.</summary>
    internal IReadOnlyList<NamedOutput> FeatureOutputs =>
        [.. Card.Features.Select(f => new NamedOutput(f.Name, [f.Shape.Channels, f.Shape.Height, f.Shape.Width]))];

    /// <summary>
    /// The training split's mean and deviation are measured when the data is loaded and written into the card: equal
    /// (to float rounding), the split seed and fraction picked the same images out of the same files.
    /// </summary>
    private void CheckSameImages(TrainingData data)
    {
        var want = Card.Normalization;
        var got = data.Normalization;
        bool same = want.Mean.Count == got.Mean.Count
            && want.Mean.Zip(got.Mean).Concat(want.Std.Zip(got.Std)).All(p => Math.Abs(p.First - p.Second) <= 1e-6);
        if (!same)
        {
            throw new InvalidDataException(
                $"{Path}: was trained on images of mean {Format(want.Mean)} and deviation {Format(want.Std)}; the training split of {data.Info.Source} (split seed {Training.SplitSeed ?? Training.Seed}) has {Format(got.Mean)} and {Format(got.Std)}: not the images it trained on, so its validation split cannot be found there (pass --data with the folder it was trained on)");
        }
    }

    private static string Format(IEnumerable<double> values) =>
        string.Join("/", values.Select(v => v.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture)));

    private static ModelCard CardOf(ModelProto model, string path)
    {
        string json = model.MetadataProps.FirstOrDefault(p => p.Key == OnnxNames.ModelCardKey)?.Value
            ?? throw new InvalidDataException($"{path}: has no model card; expected a float model written by `cnn export` (another producer's model has no record of its validation split to calibrate on)");
        var card = ModelCard.FromJson(json, path);
        if (card.Quantization != null || model.Graph.Node.FirstOrDefault(n => Quantized.Contains(n.OpType)) is not null)
        {
            throw new InvalidDataException($"{path}: is already quantized ({card.Quantization?.Format ?? "it has quantization operators"}); quantize the float model it was made from");
        }

        if (card.Members.Count > 0)
        {
            throw new InvalidDataException($"{path}: is an ensemble of {card.Members.Count} nets, and its file does not record each net's validation split; quantize it from its runs (cnn export RUN RUN --int8 --out FILE)");
        }

        if (model.Graph.Node.FirstOrDefault(n => !Handled.Contains(n.OpType)) is { } other)
        {
            throw new InvalidDataException($"{path}: node '{other.Name}' is a {other.OpType}, an operator the int8 quantizer does not handle (it handles {string.Join(", ", Handled)})");
        }

        return card;
    }

    private static T Options<T>(JsonElement? element, string path, string what)
    {
        if (element is not { ValueKind: JsonValueKind.Object } json)
        {
            throw new InvalidDataException($"{path}: its model card has no {what}; expected a card written by `cnn export` of this version, which records them");
        }

        try
        {
            return json.Deserialize<T>(RunFolder.Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: its model card's {what} cannot be read ({e.Message})", e);
        }
    }
}
