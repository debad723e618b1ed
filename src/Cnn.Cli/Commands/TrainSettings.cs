using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Cnn.Commands;
using Cnn.Train.Data;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>
/// The options <c>cnn train</c> and <c>cnn sweep</c> share, bound to a <see cref="Recipe"/>: an unset option takes the
/// recipe's default for the data set, the help text prints those defaults, and each option is named in messages by
/// its command-line name.
/// </summary>
public abstract class RunSettings : CommandSettings
{
    [CommandOption("--data <DIR>")]
    [Description("Folder with the data set's files; missing ones are downloaded into it where the data set can be. Default: ~/.cache/cnn/NAME (fashion-mnist: /usr/share/datasets/fashion-mnist when present)")]
    public string? Data { get; init; }

    [CommandOption("--epochs <N>")]
    [DefaultsDescription("Maximum epochs.", nameof(TrainOptions.Epochs))]
    public int? Epochs { get; init; }

    [CommandOption("--patience <N>")]
    [DefaultsDescription("Early stopping: epochs without a better epoch (see --best-by); 0 = off.", nameof(TrainOptions.Patience))]
    public int? Patience { get; init; }

    [CommandOption("--best-by <C>")]
    [DefaultsDescription("What makes an epoch the best (kept in model.pt, counted by --patience): the validation split's loss or accuracy.", nameof(TrainOptions.BestBy))]
    public BestBy? BestBy { get; init; }

    [CommandOption("--scheduler <S>")]
    [DefaultsDescription("Learning-rate schedule: none, step, cosine, plateau or onecycle.", nameof(TrainOptions.Scheduler))]
    public SchedulerKind? Scheduler { get; init; }

    [CommandOption("--threads <N>")]
    [DefaultsDescription("libtorch CPU threads (the number of cores by default).", nameof(TrainOptions.Threads))]
    public int? Threads { get; init; }

    [CommandOption("--precision <P>")]
    [DefaultsDescription("fp32, or bf16: convolutions and linear layers in bfloat16 on a CPU with bfloat16 dot products (AVX512_BF16, AMX or ARM BF16), weights, optimizer, batch-norm statistics and loss in fp32; the exported model is fp32 either way.", nameof(TrainOptions.Precision))]
    public Precision? Precision { get; init; }

    [CommandOption("--force-bf16")]
    [Description("With --precision bf16: train in bf16 on a CPU without bfloat16 dot products too (emulated, slower than fp32; for checking the numbers). May be given with --resume")]
    public bool? ForceBf16 { get; init; }

    /// <summary>The recipe this command trains.</summary>
    internal abstract Recipe Recipe { get; }

    /// <summary>The <c>--dataset</c> given, if any.</summary>
    internal abstract string? DatasetName { get; }

    /// <summary>The CIFAR label set; lenet has one.</summary>
    internal virtual CifarLabels? LabelSet => null;

    /// <summary>The command-line name of a <see cref="TrainOptions"/> property: the settings property of that name or the one marked for it (LearningRate → --lr).</summary>
    internal string OptionName(string property) =>
        GetType().GetProperties()
            .Where(p => p.Name == property || p.GetCustomAttribute<SetsAttribute>()?.Property == property)
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>()?.LongNames.Select(n => $"--{n}").FirstOrDefault())
            .FirstOrDefault(name => name != null) ?? property;

    /// <summary>--labels chooses CIFAR-100's label set: refused for any other data set, by train and sweep alike.</summary>
    protected void CheckLabelSet(Dataset dataset)
    {
        if (LabelSet != null && dataset != Datasets.Cifar100)
        {
            throw new ArgumentException($"--labels is given for {dataset.Name}; it chooses CIFAR-100's label set, so expected it only with --dataset {Datasets.Cifar100.Name}");
        }
    }

    /// <summary>The recipe's defaults with the options both commands have applied.</summary>
    protected TrainOptions WithSharedOptions(TrainOptions defaults) => defaults with
    {
        Epochs = Epochs ?? defaults.Epochs,
        Patience = Patience ?? defaults.Patience,
        BestBy = BestBy ?? defaults.BestBy,
        Scheduler = Scheduler ?? defaults.Scheduler,
        Threads = Threads ?? defaults.Threads,
        Precision = Precision ?? defaults.Precision,
        ForcePrecision = ForceBf16 == true,
    };
}

/// <summary>Marks a settings property that sets a <see cref="TrainOptions"/> property of another name, for messages.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SetsAttribute(string property) : Attribute
{
    public string Property { get; } = property;
}

/// <summary>
/// Options every <c>cnn train</c> command has; <see cref="TrainOptions.Validated(Func{string, string})"/> checks the result once.
/// </summary>
public abstract class TrainSettings : RunSettings
{
    /// <summary>The only options <c>--resume</c> takes along: where the run continues may change, not what it computes.</summary>
    private static readonly string[] ResumeMayChange = [nameof(Threads), nameof(Device), nameof(ForceBf16), nameof(Resume)];

    [CommandOption("--lr <X>")]
    [DefaultsDescription("Adam learning rate (the peak for onecycle).", nameof(TrainOptions.LearningRate))]
    public double? LearningRate { get; init; }

    [CommandOption("--batch-size <N>")]
    [DefaultsDescription("Images per batch.", nameof(TrainOptions.BatchSize))]
    public int? BatchSize { get; init; }

    [CommandOption("--augment")]
    [DefaultsDescription("digits and garments: random rotation (±10°), scale (±10 %) and shift (±2 px); cifar100: random crop of the 4-px padded image and horizontal flip.", nameof(TrainOptions.Augment))]
    public bool? Augment { get; init; }

    [CommandOption("--shear <S>")]
    [DefaultsDescription("Digits and garments, with augmentation: largest random slant (horizontal shear), 0 = none.", nameof(TrainOptions.Shear))]
    public double? Shear { get; init; }

    [CommandOption("--elastic <PIXELS>")]
    [DefaultsDescription("Digits and garments, with augmentation: elastic distortion strength (Simard et al. 2003, σ 4 px), 0 = none.", nameof(TrainOptions.Elastic))]
    public double? Elastic { get; init; }

    [CommandOption("--stroke-change <P>")]
    [DefaultsDescription("Digits and garments, with augmentation: share of images whose strokes get a pixel thinner or thicker, 0 = none.", nameof(TrainOptions.StrokeChange))]
    public double? StrokeChange { get; init; }

    [CommandOption("--blur <P>")]
    [DefaultsDescription("Digits and garments, with augmentation: share of images blurred (Gaussian, σ 0.6–1.2 px, brightest value kept), 0 = none.", nameof(TrainOptions.Blur))]
    public double? Blur { get; init; }

    [CommandOption("--photos <P>")]
    [DefaultsDescription("Handwritten digits, with augmentation: share of images drawn as a photo (dark ink on grainy paper, 2–4× larger) and read back through the preprocessing cnn predict gives a photo, 0 = none.", nameof(TrainOptions.Photos))]
    public double? Photos { get; init; }

    [CommandOption("--ema <DECAY>")]
    [DefaultsDescription("Keep an exponential moving average of the weights with this decay per step (e.g. 0.999); validation, early stopping, model.pt and the test use it, 0 = off.", nameof(TrainOptions.Ema))]
    public double? Ema { get; init; }

    [CommandOption("--teacher <MODEL>")]
    [Description("Distillation: also learn a trained model's probabilities (an ONNX file from cnn export, one net or an ensemble, reading the same images)")]
    public string? Teacher { get; init; }

    [CommandOption("--distill-temperature <T>")]
    [Sets(nameof(Distillation.Temperature))]
    [ConstantDefaultDescription("With --teacher: both models' logits are divided by T before the softmax.", Distillation.DefaultTemperature)]
    public double? DistillTemperature { get; init; }

    [CommandOption("--distill-weight <W>")]
    [Sets(nameof(Distillation.Weight))]
    [ConstantDefaultDescription("With --teacher: the teacher's share of the loss (the rest is cross-entropy with the labels).", Distillation.DefaultWeight)]
    public double? DistillWeight { get; init; }

    [CommandOption("--no-augment")]
    [Description("Turn augmentation off")]
    public bool? NoAugment { get; init; }

    [CommandOption("--deskew")]
    [DefaultsDescription("Handwritten digits: deskew every image by its moments, in training and (via the model card) in prediction.", nameof(TrainOptions.Deskew))]
    public bool? Deskew { get; init; }

    [CommandOption("--no-deskew")]
    [Description("Turn deskewing off")]
    public bool? NoDeskew { get; init; }

    [CommandOption("--source-renders <N>")]
    [DefaultsDescription("Dataset handwriting: renderings of each training digit of the outside collections (UNIPEN, UCI optdigits and pendigits) mixed into MNIST's, each with its own pen, size and edges.", nameof(TrainOptions.SourceRenders))]
    public int? SourceRenders { get; init; }

    [CommandOption("--style-copies <N>")]
    [DefaultsDescription("Dataset handwriting: styled copies of each plain pen zero and one of the outside training digits — a slash or a bar through the zero, a European up-stroke flag on the one — rendered as the others.", nameof(TrainOptions.StyleCopies))]
    public int? StyleCopies { get; init; }

    [CommandOption("--sources <DIR>")]
    [Description("Dataset handwriting: the folder of the outside collections, as data/get-handwriting.sh lays it out. Default: ~/.cache/cnn/handwriting-sources")]
    public string? Sources { get; init; }

    [CommandOption("--val-fraction <X>")]
    [DefaultsDescription("Share of the training file held out for validation.", nameof(TrainOptions.ValidationFraction))]
    public double? ValidationFraction { get; init; }

    [CommandOption("--width <W>")]
    [Description("Multiplies the conv channels (lenet 6·W and 16·W, cifar 32·W and 64·W feature maps). Default: 1")]
    public double? Width { get; init; }

    [CommandOption("--seed <N>")]
    [DefaultsDescription("Seed of initialisation, split, shuffling and augmentation.", nameof(TrainOptions.Seed))]
    public long? Seed { get; init; }

    [CommandOption("--split-seed <N>")]
    [Description("Seed of the train/validation split alone; give an ensemble's members one, so they share a validation split none of them trained on. Default: --seed")]
    public long? SplitSeed { get; init; }

    [CommandOption("--device <D>")]
    [DefaultsDescription("auto, cpu or cuda.", nameof(TrainOptions.Device))]
    public Cnn.Contracts.ExecutionDevice? Device { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Run folder: new, or empty. Default: runs/MODEL-DATASET-yyyyMMdd-HHmmss")]
    public string? Out { get; init; }

    [CommandOption("--resume <DIR>")]
    [Description("Continue the run in DIR from its last checkpoint (from epoch 1 if it stopped before one) with its saved options; only --threads and --device may be given with it")]
    public string? Resume { get; init; }

    public override ValidationResult Validate() => SettingsCheck.Of(() =>
    {
        if (Resume != null)
        {
            CheckResumeOptions();
        }
        else
        {
            _ = Request();
        }
    });

    private RunRequest? _request;

    /// <summary>The recipe's defaults for the data set, overridden by the options given, validated; built once.</summary>
    internal RunRequest Request() => _request ??= BuildRequest();

    private RunRequest BuildRequest()
    {
        var dataset = Recipe.Dataset(DatasetName);
        var defaults = Recipe.Defaults(dataset);
        if (Augment == true && NoAugment == true)
        {
            throw new ArgumentException("--augment and --no-augment were both given; expected at most one");
        }

        if (Deskew == true && NoDeskew == true)
        {
            throw new ArgumentException("--deskew and --no-deskew were both given; expected at most one");
        }

        CheckLabelSet(dataset);
        if (Width is { } w && !(w > 0 && double.IsFinite(w)))
        {
            throw new ArgumentException($"--width is {w.ToString(CultureInfo.InvariantCulture)}; expected a positive number (1 = the original net)");
        }

        if (Teacher == null && (DistillTemperature ?? DistillWeight) != null)
        {
            throw new ArgumentException($"{(DistillTemperature != null ? "--distill-temperature" : "--distill-weight")} was given without --teacher; expected --teacher MODEL.onnx with it, or neither");
        }

        if (ForceBf16 == true && Precision != Cnn.Train.Training.Precision.Bf16)
        {
            throw new ArgumentException("--force-bf16 was given without --precision bf16; it lets bf16 train on a CPU without bfloat16 instructions");
        }

        if (Sources != null && dataset != Datasets.Handwriting)
        {
            throw new ArgumentException($"--sources is given for {dataset.Name}; it is where --dataset {Datasets.Handwriting.Name} finds the outside collections");
        }

        bool augment = NoAugment == true ? false : Augment ?? defaults.Augment;
        var options = WithSharedOptions(defaults) with
        {
            LearningRate = LearningRate ?? defaults.LearningRate,
            BatchSize = BatchSize ?? defaults.BatchSize,
            Augment = augment,
            // The recipe's jitter defaults go with its augmentation; without it only what was asked for stays (and is refused).
            Shear = Shear ?? (augment ? defaults.Shear : 0),
            Elastic = Elastic ?? (augment ? defaults.Elastic : 0),
            StrokeChange = StrokeChange ?? (augment ? defaults.StrokeChange : 0),
            Blur = Blur ?? (augment ? defaults.Blur : 0),
            Photos = Photos ?? (augment ? defaults.Photos : 0),
            Ema = Ema ?? defaults.Ema,
            SourceRenders = SourceRenders ?? defaults.SourceRenders,
            StyleCopies = StyleCopies ?? defaults.StyleCopies,
            Distill = Teacher == null ? null : new Distillation(Teacher, DistillTemperature ?? Distillation.DefaultTemperature, DistillWeight ?? Distillation.DefaultWeight),
            Deskew = NoDeskew == true ? false : Deskew ?? defaults.Deskew,
            ValidationFraction = ValidationFraction ?? defaults.ValidationFraction,
            Seed = Seed ?? defaults.Seed,
            SplitSeed = SplitSeed ?? defaults.SplitSeed,
            Device = Device ?? defaults.Device,
        };
        dataset.Check(options.Validated(OptionName), OptionName);
        return new RunRequest(dataset, options, Width ?? 1.0, new DataRequest(Data, LabelSet ?? CifarLabels.Coarse, Sources));
    }

    private void CheckResumeOptions()
    {
        var given = GetType().GetProperties()
            .Where(p => p.GetCustomAttribute<CommandOptionAttribute>() != null && !ResumeMayChange.Contains(p.Name) && p.GetValue(this) != null)
            .Select(p => OptionName(p.Name))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (given.Count > 0)
        {
            throw new ArgumentException(
                $"--resume continues a run with the options saved in its config.json; {string.Join(", ", given)} cannot change them (only --threads, --device and --force-bf16 may be given with --resume)");
        }

        if (Threads is < 1)
        {
            throw new ArgumentException($"--threads is {Threads}; expected ≥ 1");
        }
    }
}

/// <summary>Options of <c>cnn train lenet</c>.</summary>
public sealed class TrainLeNetSettings : TrainSettings
{
    [CommandOption("--dataset <NAME>")]
    [DatasetsDescription("lenet")]
    public string? Dataset { get; init; }

    internal override Recipe Recipe => Recipes.LeNet;

    internal override string? DatasetName => Dataset;
}

/// <summary>Options of <c>cnn train cifar</c>.</summary>
public sealed class TrainCifarSettings : TrainSettings
{
    [CommandOption("--dataset <NAME>")]
    [DatasetsDescription("cifar")]
    public string? Dataset { get; init; }

    [CommandOption("--labels <L>")]
    [Description("coarse (20 superclasses) or fine (100 classes). Default: coarse")]
    public CifarLabels? Labels { get; init; }

    internal override Recipe Recipe => Recipes.Cifar;

    internal override string? DatasetName => Dataset;

    internal override CifarLabels? LabelSet => Labels;
}
