using Cnn.Contracts;
using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;

namespace Cnn.Train.Recipes;

/// <summary>A data set a recipe trains on: its name on the command line and in config.json, and how images of it are read back.</summary>
/// <param name="Name">The name used by <c>--dataset</c> and saved in config.json.</param>
/// <param name="Summary">One line for help texts.</param>
/// <param name="Preprocessing">How an image file becomes a model input for a model trained on it; written into the model card.</param>
public sealed record DatasetSpec(string Name, string Summary, PreprocessingKind Preprocessing);

/// <summary>What a new run is asked to be: the data, the options (defaults already applied) and the width.</summary>
/// <param name="Dataset">One of the recipe's <see cref="Recipe.Datasets"/>.</param>
/// <param name="Options">The training options; validated by <see cref="Recipe.PrepareAsync"/>.</param>
/// <param name="Width">Multiplier of the conv channels.</param>
/// <param name="DataFolder">Where the data set's files are; null for its default place.</param>
/// <param name="Labels">CIFAR-100's label set; other data sets have one.</param>
/// <param name="SourcesFolder">The <c>handwriting</c> data set's outside collections; null for their download cache.</param>
public sealed record RunRequest(DatasetSpec Dataset, TrainOptions Options, double Width = 1.0, string? DataFolder = null, CifarLabels Labels = CifarLabels.Coarse, string? SourcesFolder = null);

/// <summary>The config and data of a run about to train. Owns the data: dispose it.</summary>
public sealed record PreparedRun(RunConfig Config, TrainingData Data) : IDisposable
{
    /// <summary>Releases the data set's tensors.</summary>
    public void Dispose() => Data.Dispose();
}

/// <summary>
/// One architecture and everything needed to train it: the data sets it takes, their default options, validation of
/// a request, and assembling the run's config and data. <c>cnn train</c> and <c>cnn sweep</c> bind their options to a
/// recipe; nothing else holds a default.
/// </summary>
public abstract class Recipe
{
    /// <summary>The command-line name: <c>cnn train NAME</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for help texts.</summary>
    public abstract string Summary { get; }

    /// <summary>The data sets this recipe trains on; the first is the default.</summary>
    public abstract IReadOnlyList<DatasetSpec> Datasets { get; }

    /// <summary>The data set used when none is named.</summary>
    public DatasetSpec DefaultDataset => Datasets[0];

    /// <summary>The data set called <paramref name="name"/> (the default when null).</summary>
    /// <exception cref="ArgumentException">This recipe has no data set of that name.</exception>
    public DatasetSpec Dataset(string? name) => name == null
        ? DefaultDataset
        : Datasets.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"--dataset is '{name}'; {Name} trains on {Recipes.Join(Datasets.Select(d => d.Name))}");

    /// <summary>The default options for a run on <paramref name="dataset"/>.</summary>
    public abstract TrainOptions Defaults(DatasetSpec dataset);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when an option does not apply to this architecture or data set (deskewing
    /// garments, elastic distortion of CIFAR), naming the option as <paramref name="describe"/> calls it.
    /// </summary>
    public abstract void Check(DatasetSpec dataset, TrainOptions options, Func<string, string> describe);

    /// <summary>Validates the request, loads and splits the data, and builds the run's config.</summary>
    public async Task<PreparedRun> PrepareAsync(RunRequest request, Downloader? downloader, CancellationToken cancel = default)
    {
        var options = request.Options.Validated();
        Check(request.Dataset, options, name => name);
        var data = await LoadAsync(request, options, downloader, cancel).ConfigureAwait(false);
        try
        {
            var model = Model(data.Info, request.Width);
            return new PreparedRun(new RunConfig(model, options, data.Info, data.Normalization, VersionInfo.Current()), data);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>Reloads the data a saved run trained on, with the same split and normalisation.</summary>
    public abstract Task<TrainingData> ReloadAsync(RunConfig config, CancellationToken cancel = default);

    /// <summary>The architecture for images like <paramref name="data"/>'s at <paramref name="width"/>.</summary>
    public abstract ModelConfig Model(DataInfo data, double width);

    /// <summary>Reads the request's data with <paramref name="options"/>' split.</summary>
    protected abstract Task<TrainingData> LoadAsync(RunRequest request, TrainOptions options, Downloader? downloader, CancellationToken cancel);
}
