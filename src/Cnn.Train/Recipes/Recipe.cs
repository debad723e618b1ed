using Cnn.Train.Data;
using Cnn.Train.Models;
using Cnn.Train.Training;

namespace Cnn.Train.Recipes;

/// <summary>What a new run is asked to be: the data, the options (defaults already applied) and the width.</summary>
/// <param name="Dataset">The data set to train on; every recipe takes every data set.</param>
/// <param name="Options">The training options; validated by <see cref="Recipe.PrepareAsync"/>.</param>
/// <param name="Width">Multiplier of the conv channels.</param>
/// <param name="Data">Where the data set's files are and which variant to read.</param>
public sealed record RunRequest(Dataset Dataset, TrainOptions Options, double Width = 1.0, DataRequest? Data = null);

/// <summary>The config and data of a run about to train. Owns the data: dispose it.</summary>
public sealed record PreparedRun(RunConfig Config, TrainingData Data) : IDisposable
{
    /// <summary>Releases the data set's tensors.</summary>
    public void Dispose() => Data.Dispose();
}

/// <summary>
/// One architecture and its defaults: the learning rate and batch that train it, the architecture for a data set's
/// images, and assembling a run's config. It takes any <see cref="Dataset"/>: the data set brings its own options
/// (epochs, augmentation), loading and checks. <c>cnn train</c> and <c>cnn sweep</c> bind their options to a recipe;
/// nothing else holds a default.
/// </summary>
public abstract class Recipe
{
    /// <summary>The command-line name: <c>cnn train NAME</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for help texts.</summary>
    public abstract string Summary { get; }

    /// <summary>The data set used when none is named.</summary>
    public abstract Dataset DefaultDataset { get; }

    /// <summary>The data sets in the order help texts list them: the default first.</summary>
    public IReadOnlyList<Dataset> Datasets => [DefaultDataset, .. Data.Datasets.All.Where(d => d != DefaultDataset)];

    /// <summary>The data set called <paramref name="name"/> (the default when null).</summary>
    /// <exception cref="ArgumentException">No data set has that name.</exception>
    public Dataset Dataset(string? name) => name == null ? DefaultDataset : Data.Datasets.Get(name);

    /// <summary>The default options for a run on <paramref name="dataset"/>: the net's, then the data set's.</summary>
    public TrainOptions Defaults(Dataset dataset) => dataset.Defaults(NetDefaults(dataset));

    /// <summary>Validates the request, loads and splits the data, and builds the run's config.</summary>
    public async Task<PreparedRun> PrepareAsync(RunRequest request, Downloader? downloader, CancellationToken cancel = default)
    {
        var options = request.Options.Validated();
        request.Dataset.Check(options, name => name);
        var data = await request.Dataset.LoadAsync(request.Data ?? new DataRequest(), options, downloader, cancel).ConfigureAwait(false);
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

    /// <summary>The architecture for images like <paramref name="data"/>'s at <paramref name="width"/>.</summary>
    public abstract ModelConfig Model(DataInfo data, double width);

    /// <summary>The net's own options (optimiser, schedule, batch) for a data set of <paramref name="dataset"/>'s kind.</summary>
    protected abstract TrainOptions NetDefaults(Dataset dataset);
}
