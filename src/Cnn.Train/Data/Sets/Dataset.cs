using System.Globalization;
using Cnn.Contracts;
using Cnn.Train.Training;

namespace Cnn.Train.Data;

/// <summary>
/// A data set a net trains on, under one name (<c>--dataset</c>, config.json): what it is, how it loads and reloads,
/// how its images are prepared (written into the model card), and the options that go with it (epochs, patience,
/// augmentations). Any recipe takes any data set; the recipe adds the net's own defaults (learning rate, batch).
/// </summary>
public abstract class Dataset
{
    /// <summary>The name used by <c>--dataset</c> and saved in config.json.</summary>
    public abstract string Name { get; }

    /// <summary>One line for help texts.</summary>
    public abstract string Summary { get; }

    /// <summary>How an image file becomes a model input for a model trained on this data set; written into the model card.</summary>
    public abstract PreprocessingKind Preprocessing { get; }

    /// <summary>This data set's options (epochs, patience, augmentation and its jitter) on top of a net's <paramref name="net"/>.</summary>
    public abstract TrainOptions Defaults(TrainOptions net);

    /// <summary>Reads the data set with <paramref name="options"/>' split, downloading what is missing when <paramref name="downloader"/> is given.</summary>
    public abstract Task<TrainingData> LoadAsync(DataRequest request, TrainOptions options, Downloader? downloader, CancellationToken cancel = default);

    /// <summary>Reloads the data a saved run trained on, with the same split and normalisation.</summary>
    public abstract Task<TrainingData> ReloadAsync(RunConfig config, CancellationToken cancel = default);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when an option does not apply to this data set (deskewing garments,
    /// elastic distortion of photos, renderings of the outside handwriting for anything but <c>handwriting</c>),
    /// naming the option as <paramref name="describe"/> calls it.
    /// </summary>
    public virtual void Check(TrainOptions options, Func<string, string> describe)
    {
        CheckHandwritingOnly(options, describe);
        if (options.SourceRenders > 0)
        {
            throw new ArgumentException($"{describe(nameof(TrainOptions.SourceRenders))} is {options.SourceRenders} for {Name}; it mixes the outside collections into --dataset {Datasets.Handwriting.Name} only");
        }

        if (options.StyleCopies > 0)
        {
            throw new ArgumentException($"{describe(nameof(TrainOptions.StyleCopies))} is {options.StyleCopies} for {Name}; it styles the outside collections' pen digits in --dataset {Datasets.Handwriting.Name} only");
        }

        var extras = new[] { (nameof(TrainOptions.Shear), options.Shear), (nameof(TrainOptions.Elastic), options.Elastic), (nameof(TrainOptions.StrokeChange), options.StrokeChange), (nameof(TrainOptions.Blur), options.Blur), (nameof(TrainOptions.Photos), options.Photos) };
        foreach (var (name, value) in extras)
        {
            if (value > 0 && !options.Augment)
            {
                throw new ArgumentException($"{describe(name)} is {value.ToString(CultureInfo.InvariantCulture)} with augmentation off; it is part of the augmentation, so turn that on or leave it out");
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Deskewing and photo round trips are for handwritten digits; stroke jitter is for grey images, never colour photos.</summary>
    private void CheckHandwritingOnly(TrainOptions options, Func<string, string> describe)
    {
        if (Preprocessing == PreprocessingKind.Color)
        {
            string greySets = Words.Or(Datasets.All.Where(d => d.Preprocessing != PreprocessingKind.Color).Select(d => d.Name));
            var jitter = new (string Name, bool On)[]
            {
                (nameof(TrainOptions.Shear), options.Shear > 0), (nameof(TrainOptions.Elastic), options.Elastic > 0), (nameof(TrainOptions.StrokeChange), options.StrokeChange > 0),
                (nameof(TrainOptions.Blur), options.Blur > 0), (nameof(TrainOptions.Photos), options.Photos > 0), (nameof(TrainOptions.Deskew), options.Deskew),
            };
            if (jitter.FirstOrDefault(j => j.On).Name is { } set)
            {
                throw new ArgumentException($"{describe(set)} is for grey images (--dataset {greySets}); {Name} is augmented by crop and flip only");
            }
        }

        if (Preprocessing == PreprocessingKind.Digit)
        {
            return;
        }

        string digitSets = Words.Or(Datasets.All.Where(d => d.Preprocessing == PreprocessingKind.Digit).Select(d => d.Name));
        var digitsOnly = new (string Name, bool On, string Why)[]
        {
            (nameof(TrainOptions.Deskew), options.Deskew, $"deskewing is for handwritten digits ({digitSets})"),
            (nameof(TrainOptions.Photos), options.Photos > 0, $"it sends digits through the handwriting preprocessing, which is for {digitSets}"),
        };
        if (digitsOnly.FirstOrDefault(d => d.On) is { Name: { } name, Why: var why })
        {
            throw new ArgumentException($"{describe(name)} is on for {Name}; {why}");
        }
    }
}

/// <summary>Where a data set's files are and which of its variants to read.</summary>
/// <param name="Folder">Where the data set's files are; null for its default place.</param>
/// <param name="Labels">CIFAR-100's label set; other data sets have one.</param>
/// <param name="SourcesFolder">The <c>handwriting</c> data set's outside collections; null for their download cache.</param>
public sealed record DataRequest(string? Folder = null, CifarLabels Labels = CifarLabels.Coarse, string? SourcesFolder = null);
