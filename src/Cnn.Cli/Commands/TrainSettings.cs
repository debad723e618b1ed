using System.ComponentModel;
using System.Globalization;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>
/// Options every <c>cnn train</c> command has. Unset options take the model's and data set's defaults
/// (LeNetRecipe.Defaults, CifarRecipe.Defaults), which the descriptions list.
/// </summary>
public abstract class TrainSettings : CommandSettings
{
    [CommandOption("--data <DIR>")]
    [Description("Folder with the data set's files; missing ones are downloaded into it where the data set can be. Default: ~/.cache/cnn/NAME (fashion-mnist: /usr/share/datasets/fashion-mnist when present)")]
    public string? Data { get; init; }

    [CommandOption("--epochs <N>")]
    [Description("Maximum epochs. Default: 30 for digits, 15 for mnist and fashion-mnist; cifar: 30")]
    public int? Epochs { get; init; }

    [CommandOption("--lr <X>")]
    [Description("Adam learning rate (the peak for onecycle). Default: lenet 0.003, cifar 0.0005")]
    public double? LearningRate { get; init; }

    [CommandOption("--batch-size <N>")]
    [Description("Images per batch. Default: lenet 64, cifar 128")]
    public int? BatchSize { get; init; }

    [CommandOption("--patience <N>")]
    [Description("Early stopping: epochs without a better validation loss; 0 = off. Default: 10 for digits, 5 for mnist and fashion-mnist; cifar: 8")]
    public int? Patience { get; init; }

    [CommandOption("--scheduler <S>")]
    [Description("none, step, cosine, plateau or onecycle. Default: onecycle")]
    public string? Scheduler { get; init; }

    [CommandOption("--augment")]
    [Description("lenet: random rotation (±10°), scale (±10 %) and shift (±2 px); cifar: random crop of the 4-px padded image and horizontal flip. Default: on, except for fashion-mnist")]
    public bool? Augment { get; init; }

    [CommandOption("--no-augment")]
    [Description("Turn augmentation off")]
    public bool? NoAugment { get; init; }

    [CommandOption("--val-fraction <X>")]
    [Description("Share of the training file held out for validation. Default: lenet 0.0833 (1/12: 5,000 of MNIST's 60,000), cifar 0.1 (5,000 of 50,000)")]
    public double? ValidationFraction { get; init; }

    [CommandOption("--width <W>")]
    [Description("Multiplies the conv channels (lenet 6·W and 16·W, cifar 32·W and 64·W feature maps). Default: 1")]
    [DefaultValue(1.0)]
    public double Width { get; init; } = 1.0;

    [CommandOption("--seed <N>")]
    [Description("Seed of initialisation, split, shuffling and augmentation. Default: 1")]
    public long? Seed { get; init; }

    [CommandOption("--threads <N>")]
    [Description("libtorch CPU threads. Default: the number of cores")]
    public int? Threads { get; init; }

    [CommandOption("--device <D>")]
    [Description("auto, cpu or cuda. Default: auto")]
    public string? Device { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Run folder. Default: runs/MODEL-DATASET-yyyyMMdd-HHmmss")]
    public string? Out { get; init; }

    [CommandOption("--resume <DIR>")]
    [Description("Continue the run in DIR from its last checkpoint with its saved options (--threads and --device may change)")]
    public string? Resume { get; init; }

    public override ValidationResult Validate()
    {
        if (ValidateSpecific() is { Successful: false } specific)
        {
            return specific;
        }

        if (Epochs is < 1)
        {
            return ValidationResult.Error($"--epochs is {Epochs}; expected ≥ 1");
        }

        if (LearningRate is { } lr && !(lr > 0 && double.IsFinite(lr)))
        {
            return ValidationResult.Error($"--lr is {lr.ToString(CultureInfo.InvariantCulture)}; expected a positive number");
        }

        if (BatchSize is < 1)
        {
            return ValidationResult.Error($"--batch-size is {BatchSize}; expected ≥ 1");
        }

        if (Patience is < 0)
        {
            return ValidationResult.Error($"--patience is {Patience}; expected ≥ 0 (0 turns early stopping off)");
        }

        if (Threads is < 1)
        {
            return ValidationResult.Error($"--threads is {Threads}; expected ≥ 1");
        }

        if (!(Width > 0 && double.IsFinite(Width)))
        {
            return ValidationResult.Error($"--width is {Width.ToString(CultureInfo.InvariantCulture)}; expected a positive number (1 = 6 and 16 maps)");
        }

        if (ValidationFraction is { } f && !(f > 0 && f < 1))
        {
            return ValidationResult.Error($"--val-fraction is {f.ToString(CultureInfo.InvariantCulture)}; expected between 0 and 1");
        }

        if (Augment == true && NoAugment == true)
        {
            return ValidationResult.Error("--augment and --no-augment were both given; expected at most one");
        }

        if (Scheduler != null && !TryParseScheduler(Scheduler, out _))
        {
            return ValidationResult.Error($"--scheduler is '{Scheduler}'; expected none, step, cosine, plateau or onecycle");
        }

        if (Device != null && Device is not ("auto" or "cpu" or "cuda"))
        {
            return ValidationResult.Error($"--device is '{Device}'; expected auto, cpu or cuda");
        }

        return ValidationResult.Success();
    }

    /// <summary>Checks of the options only one command has.</summary>
    protected abstract ValidationResult ValidateSpecific();

    /// <summary>The data set's defaults overridden by the options given.</summary>
    public TrainOptions ToOptions(TrainOptions defaults) => defaults with
    {
        Epochs = Epochs ?? defaults.Epochs,
        LearningRate = LearningRate ?? defaults.LearningRate,
        BatchSize = BatchSize ?? defaults.BatchSize,
        Patience = Patience ?? defaults.Patience,
        Scheduler = Scheduler != null && TryParseScheduler(Scheduler, out var s) ? s : defaults.Scheduler,
        Augment = NoAugment == true ? false : Augment ?? defaults.Augment,
        ValidationFraction = ValidationFraction ?? defaults.ValidationFraction,
        Seed = Seed ?? defaults.Seed,
        Threads = Threads ?? Environment.ProcessorCount,
        Device = Device ?? defaults.Device,
    };

    internal static bool TryParseScheduler(string text, out SchedulerKind kind)
    {
        kind = text.ToLowerInvariant() switch
        {
            "none" => SchedulerKind.None,
            "step" => SchedulerKind.Step,
            "cosine" => SchedulerKind.Cosine,
            "plateau" => SchedulerKind.Plateau,
            "onecycle" => SchedulerKind.OneCycle,
            _ => (SchedulerKind)(-1),
        };
        return Enum.IsDefined(kind);
    }
}

/// <summary>Options of <c>cnn train lenet</c>.</summary>
public sealed class TrainLeNetSettings : TrainSettings
{
    [CommandOption("--dataset <NAME>")]
    [Description("digits (5,000 real MNIST digits, embedded), mnist (downloaded) or fashion-mnist. Default: digits")]
    [DefaultValue("digits")]
    public string Dataset { get; init; } = "digits";

    protected override ValidationResult ValidateSpecific() => Dataset is "digits" or "mnist" or "fashion-mnist"
        ? ValidationResult.Success()
        : ValidationResult.Error($"--dataset is '{Dataset}'; expected digits, mnist or fashion-mnist");
}

/// <summary>Options of <c>cnn train cifar</c>.</summary>
public sealed class TrainCifarSettings : TrainSettings
{
    [CommandOption("--dataset <NAME>")]
    [Description("cifar100 (the binary version: train.bin, test.bin). Default: cifar100")]
    [DefaultValue("cifar100")]
    public string Dataset { get; init; } = "cifar100";

    [CommandOption("--labels <L>")]
    [Description("coarse (20 superclasses) or fine (100 classes). Default: coarse")]
    [DefaultValue("coarse")]
    public string Labels { get; init; } = "coarse";

    protected override ValidationResult ValidateSpecific()
    {
        if (Dataset != "cifar100")
        {
            return ValidationResult.Error($"--dataset is '{Dataset}'; expected cifar100");
        }

        return Labels is "coarse" or "fine"
            ? ValidationResult.Success()
            : ValidationResult.Error($"--labels is '{Labels}'; expected coarse or fine");
    }
}
