using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cnn.Contracts;
using Cnn.Train.Data;
using Cnn.Train.Models;
using static TorchSharp.torch;

namespace Cnn.Train.Training;

/// <summary>What the model was trained on, saved so export and inference never guess.</summary>
public sealed record DataInfo(
    string Dataset,
    string Source,
    int TrainCount,
    int ValidationCount,
    int TestCount,
    int Channels,
    int Height,
    int Width,
    IReadOnlyList<string> ClassNames,
    CifarLabels? Labels = null,
    string? Sources = null)
{
    /// <summary>
    /// How an image becomes this data's input (the model card's preprocessing, the training jitter); a config.json
    /// written before it was saved gets its data set's.
    /// </summary>
    public PreprocessingKind Preprocessing { get; init; } = Datasets.Find(Dataset)?.Preprocessing ?? PreprocessingKind.Digit;
}

/// <summary>Versions of everything that produced a run.</summary>
public sealed record VersionInfo(string Cnn, string TorchSharp, string Runtime, string Os)
{
    public static VersionInfo Current() => new(
        typeof(VersionInfo).Assembly.GetName().Version?.ToString() ?? "unknown",
        typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown",
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        System.Runtime.InteropServices.RuntimeInformation.OSDescription);
}

/// <summary>config.json: architecture, options, data and normalisation of a run.</summary>
public sealed record RunConfig(ModelConfig Model, TrainOptions Training, DataInfo Data, Normalization Normalization, VersionInfo Versions);

/// <summary>One row of metrics.csv.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double TrainAccuracy,
    double ValidationLoss,
    double ValidationAccuracy,
    double Seconds,
    double ImagesPerSecond,
    double RssMegabytes,
    double PeakRssMegabytes);

/// <summary>
/// summary.json: the figures of a finished run. <see cref="Temperature"/> is what export divides the logits by before
/// softmax (fitted on the validation split; 1 when that did not lower its calibration error), with the test set's
/// expected calibration error before and after it.
/// </summary>
public sealed record RunSummary(
    string Status,
    double TestAccuracy,
    double TestLoss,
    int BestEpoch,
    double BestValidationLoss,
    int EpochsRun,
    bool StoppedEarly,
    double TrainImagesPerSecond,
    double EvalImagesPerSecond,
    long Parameters,
    double TrainSeconds,
    int Threads,
    Cnn.Contracts.ExecutionDevice Device,
    double PeakRssMegabytes,
    double Temperature = 1,
    double TestEce = 0,
    double TestEceCalibrated = 0);

/// <summary>The files of a run folder. Every write goes to a temp file first, then is renamed over the old one.</summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.csv";
    public const string SummaryFile = "summary.json";
    public const string WeightsFile = "model.pt";
    public const string CheckpointFile = "checkpoint.bin";

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public RunFolder(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public bool HasConfig => System.IO.File.Exists(File(ConfigFile));

    public void WriteConfig(RunConfig config) => WriteJson(ConfigFile, config);

    public RunConfig ReadConfig() => ReadJson<RunConfig>(ConfigFile);

    public void WriteSummary(RunSummary summary) => WriteJson(SummaryFile, summary);

    public RunSummary ReadSummary() => ReadJson<RunSummary>(SummaryFile);

    /// <summary>The run's architecture (from config.json) with its trained weights from model.pt, in eval mode. Dispose it.</summary>
    public nn.Module<Tensor, Tensor> LoadModel() => LoadModel(ReadConfig());

    /// <summary>The architecture of <paramref name="config"/> with this run's weights from model.pt, in eval mode. Dispose it.</summary>
    public nn.Module<Tensor, Tensor> LoadModel(RunConfig config)
    {
        string weights = File(WeightsFile);
        if (!System.IO.File.Exists(weights))
        {
            throw new FileNotFoundException($"{weights} not found; expected the weights of a finished (or checkpointed) run", weights);
        }

        var model = config.Model.Build();
        try
        {
            model.load(weights);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"{weights}: cannot load the weights of {config.Model.Name} ({e.Message})", e);
        }

        model.eval();
        return model;
    }

    public void WriteMetrics(IEnumerable<EpochMetrics> rows)
    {
        var csv = new StringBuilder("epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds,images_per_second,rss_mb,peak_rss_mb\n");
        foreach (var r in rows)
        {
            csv.AppendLine(string.Join(',', new[]
            {
                r.Epoch.ToString(CultureInfo.InvariantCulture), G(r.LearningRate), G(r.TrainLoss), G(r.TrainAccuracy), G(r.ValidationLoss),
                G(r.ValidationAccuracy), G(r.Seconds), G(r.ImagesPerSecond), G(r.RssMegabytes), G(r.PeakRssMegabytes),
            }));
        }

        WriteAtomic(MetricsFile, stream => stream.Write(Encoding.UTF8.GetBytes(csv.ToString())));
    }

    /// <summary>Reads metrics.csv back.</summary>
    public IReadOnlyList<EpochMetrics> ReadMetrics()
    {
        string path = File(MetricsFile);
        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"{path} not found; expected a run folder written by `cnn train`", path);
        }

        return System.IO.File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select((line, i) =>
        {
            var f = line.Split(',');
            if (f.Length != 10)
            {
                throw new InvalidDataException($"{path}: line {i + 2} has {f.Length} fields; expected 10");
            }

            double D(int k) => double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                ? v
                : throw new InvalidDataException($"{path}: line {i + 2}, field {k + 1} is '{f[k]}'; expected a number");
            return new EpochMetrics((int)D(0), D(1), D(2), D(3), D(4), D(5), D(6), D(7), D(8), D(9));
        }).ToList();
    }

    /// <summary>Writes NAME in the run folder atomically (see <see cref="AtomicFile"/>).</summary>
    public void WriteAtomic(string name, Action<Stream> write) => AtomicFile.Write(File(name), write);

    private void WriteJson<T>(string name, T value) =>
        WriteAtomic(name, stream => JsonSerializer.Serialize(stream, value, Json));

    private T ReadJson<T>(string name)
    {
        string path = File(name);
        if (System.IO.File.Exists(Path))
        {
            throw new InvalidDataException($"{Path}: is a file; expected a run folder written by `cnn train`");
        }

        if (!System.IO.File.Exists(path))
        {
            throw new FileNotFoundException($"{path} not found; expected a run folder written by `cnn train`", path);
        }

        try
        {
            return JsonSerializer.Deserialize<T>(System.IO.File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty JSON; expected a {typeof(T).Name}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid {typeof(T).Name} ({e.Message})", e);
        }
    }

    private static string G(double v) => v.ToString("G9", CultureInfo.InvariantCulture);
}
