using System.Text.Json.Serialization;

namespace Cnn.Train.Training;

/// <summary>Learning-rate schedule over the run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SchedulerKind>))]
public enum SchedulerKind
{
    /// <summary>Constant learning rate.</summary>
    None,

    /// <summary>Multiply by <see cref="TrainOptions.StepGamma"/> every <see cref="TrainOptions.StepEpochs"/> epochs.</summary>
    Step,

    /// <summary>Cosine decay from the learning rate to 0 over all steps.</summary>
    Cosine,

    /// <summary>Multiply by <see cref="TrainOptions.PlateauFactor"/> after <see cref="TrainOptions.PlateauPatience"/> epochs without a better validation loss.</summary>
    Plateau,

    /// <summary>PyTorch's OneCycleLR: warm up to the learning rate over 30 % of the steps, then cosine down to lr/25/1e4.</summary>
    OneCycle,
}

/// <summary>The number format a net computes its convolutions and products in while it trains and evaluates.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Precision>))]
public enum Precision
{
    /// <summary>Everything in float32.</summary>
    Fp32,

    /// <summary>
    /// Mixed precision: convolutions, linear layers and their backward passes in bfloat16, on bfloat16 copies of the
    /// float32 weights made at every forward pass; the weights, their gradients, the optimizer state, batch-norm
    /// statistics, the logits and the loss stay float32 (Kernels/MixedPrecision.cs).
    /// </summary>
    Bf16,
}

/// <summary>A net whose convolutions and linear layers can compute in another <see cref="Training.Precision"/> than its float32 weights.</summary>
public interface IMixedPrecision
{
    /// <summary>What the convolutions and linear layers compute in; the weights are float32 either way.</summary>
    Precision Precision { get; set; }
}

/// <summary>What makes an epoch's weights the best so far, on the validation split (model.pt keeps them; patience counts from them).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BestBy>))]
public enum BestBy
{
    /// <summary>The lowest validation loss.</summary>
    Loss,

    /// <summary>
    /// The highest validation accuracy: for a validation split of other people's handwriting, whose loss rises with a
    /// few confident misreadings (and mislabelled digits) while more of it is read right.
    /// </summary>
    Accuracy,
}

/// <summary>
/// How a model is trained: everything besides the architecture and the data. Immutable; saved in config.json so a run
/// can be resumed or reproduced.
/// </summary>
public sealed record TrainOptions
{
    public int Epochs { get; init; } = 15;

    public double LearningRate { get; init; } = 1e-3;

    public int BatchSize { get; init; } = 64;

    /// <summary>Epochs without a better validation loss before stopping; 0 turns early stopping off.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>What makes an epoch the best: the lowest validation loss or the highest validation accuracy.</summary>
    public BestBy BestBy { get; init; } = BestBy.Loss;

    public SchedulerKind Scheduler { get; init; } = SchedulerKind.OneCycle;

    /// <summary>Seeded random rotation, scale and shift of each training batch.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>With <see cref="Augment"/>, LeNet's largest horizontal shear (slant), e.g. 0.3; 0 = none.</summary>
    public double Shear { get; init; }

    /// <summary>With <see cref="Augment"/>, LeNet's elastic distortion strength in pixels (Simard et al. use 34 at σ 4); 0 = none.</summary>
    public double Elastic { get; init; }

    /// <summary>With <see cref="Augment"/>, the share of LeNet's training images whose strokes are made a pixel thinner or thicker; 0 = none.</summary>
    public double StrokeChange { get; init; }

    /// <summary>With <see cref="Augment"/>, the share of LeNet's training images blurred (Gaussian, σ 0.6–1.2 px, brightest value kept); 0 = none.</summary>
    public double Blur { get; init; }

    /// <summary>
    /// With <see cref="Augment"/>, the share of LeNet's training images drawn as a photo (dark ink on grainy paper,
    /// 2–4× larger) and read back through the digit preprocessing a photo gets in prediction; 0 = none. Not written
    /// when 0, so runs without it keep their config and model card.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double Photos { get; init; }

    /// <summary>Learning from a trained model's probabilities as well as the labels; null = labels only (not written then).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Distillation? Distill { get; init; }

    /// <summary>
    /// Decay of an exponential moving average of the weights, updated after every step (Polyak averaging);
    /// validation, early stopping, model.pt and the test read the average. 0 = off (not written then, so runs without
    /// it keep their config and model card).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double Ema { get; init; }

    /// <summary>
    /// LeNet on handwritten digits: deskew every image by its moments (<see cref="Cnn.Inference.MomentDeskew"/>) before
    /// training, evaluating and predicting; the model card tells Cnn.Inference to do the same.
    /// </summary>
    public bool Deskew { get; init; }

    /// <summary>
    /// The <c>handwriting</c> data set: renderings of each training digit of the outside collections (UNIPEN, UCI
    /// optdigits and pendigits) mixed into MNIST's training split, each in a style of its own; 0 for other data sets.
    /// </summary>
    public int SourceRenders { get; init; }

    /// <summary>
    /// The <c>handwriting</c> data set: styled copies of each plain pen zero and one of the outside training digits, a
    /// slash or bar through the zero, a European flag on the one (<see cref="Data.Handwriting.StyleSynthesis"/>), each
    /// rendered as the other digits are; 0 for none. Not written when 0, so runs without it keep their config and card.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int StyleCopies { get; init; }

    public long Seed { get; init; } = 1;

    /// <summary>
    /// Seed of the train / validation split alone; null: <see cref="Seed"/>. Members of an ensemble trained with one
    /// split seed share one validation split, so the ensemble can be judged on images none of them trained on.
    /// </summary>
    public long? SplitSeed { get; init; }

    /// <summary>
    /// What the convolutions and linear layers compute in while training and evaluating: float32, or bfloat16 with
    /// float32 weights, optimizer state, batch-norm statistics and loss (<see cref="Precision.Bf16"/>). The
    /// exported model is float32 either way. Not written when float32, so runs without it keep their config and card.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public Precision Precision { get; init; }

    /// <summary>
    /// Train in <see cref="Precision"/> bf16 even where the CPU has no bfloat16 dot-product instructions (libtorch then
    /// emulates them, slower than float32). Given per invocation, never saved.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ForcePrecision { get; init; }

    /// <summary>Intra-op threads for libtorch on CPU.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Auto (CUDA when libtorch sees a GPU, else the CPU), Cpu or Cuda (an error without a GPU).</summary>
    public Cnn.Contracts.ExecutionDevice Device { get; init; } = Cnn.Contracts.ExecutionDevice.Auto;

    /// <summary>Share of the training file held out for validation (MNIST: 5,000 of 60,000).</summary>
    public double ValidationFraction { get; init; } = 1.0 / 12.0;

    public int StepEpochs { get; init; } = 10;

    public double StepGamma { get; init; } = 0.1;

    public int PlateauPatience { get; init; } = 2;

    public double PlateauFactor { get; init; } = 0.1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public TrainOptions Validated() => Validated(name => name);

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range, as
    /// <paramref name="describe"/> calls it (the CLI passes its option names).
    /// </summary>
    public TrainOptions Validated(Func<string, string> describe)
    {
        void Require(bool ok, string name, object value, string expected)
        {
            if (!ok)
            {
                string text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                // No parameter name or value in the exception: its message is the whole sentence a user reads.
                throw new ArgumentOutOfRangeException(null, $"{describe(name)} is {text}; expected {expected}");
            }
        }

        Require(Epochs >= 1, nameof(Epochs), Epochs, "≥ 1");
        // libtorch keeps the rate as a float32.
        Require(LearningRate > 0 && LearningRate <= float.MaxValue, nameof(LearningRate), LearningRate, "a positive number up to 3.4e38");
        Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "≥ 1");
        Require(Patience >= 0, nameof(Patience), Patience, "≥ 0 (0 turns early stopping off)");
        Require(Threads >= 1, nameof(Threads), Threads, "≥ 1");
        Require(ValidationFraction > 0 && ValidationFraction < 1, nameof(ValidationFraction), ValidationFraction, "between 0 and 1");
        Require(StepEpochs >= 1, nameof(StepEpochs), StepEpochs, "≥ 1");
        Require(StepGamma > 0 && StepGamma <= 1, nameof(StepGamma), StepGamma, "in (0, 1]");
        Require(PlateauPatience >= 0, nameof(PlateauPatience), PlateauPatience, "≥ 0");
        Require(PlateauFactor > 0 && PlateauFactor < 1, nameof(PlateauFactor), PlateauFactor, "in (0, 1)");
        Require(Enum.IsDefined(Device), nameof(Device), Device, "auto, cpu or cuda");
        Require(Shear is >= 0 and <= 1, nameof(Shear), Shear, "0..1 (0 = no slant)");
        Require(Elastic is >= 0 and <= 100, nameof(Elastic), Elastic, "0..100 pixels (0 = no elastic distortion)");
        Require(StrokeChange is >= 0 and <= 1, nameof(StrokeChange), StrokeChange, "0..1 (0 = strokes as they are)");
        Require(Blur is >= 0 and <= 1, nameof(Blur), Blur, "0..1 (0 = no blur)");
        Require(Distill is null || !string.IsNullOrWhiteSpace(Distill.Teacher), nameof(Distillation.Teacher), Distill?.Teacher ?? "", "the path of an ONNX model file");
        Require(Distill is null || Distill.Temperature is >= 1 and <= 100, nameof(Distillation.Temperature), Distill?.Temperature ?? 0, "1..100");
        Require(Distill is null || Distill.Weight is >= 0 and <= 1, nameof(Distillation.Weight), Distill?.Weight ?? 0, "0..1 (the teacher's share of the loss)");
        Require(Photos is >= 0 and <= 1, nameof(Photos), Photos, "0..1 (0 = none through the photo preprocessing)");
        Require(SourceRenders is >= 0 and <= 16, nameof(SourceRenders), SourceRenders, "0..16 renderings of each outside digit");
        Require(StyleCopies is >= 0 and <= Data.Handwriting.StyleSynthesis.MaxCopies, nameof(StyleCopies), StyleCopies, $"0..{Data.Handwriting.StyleSynthesis.MaxCopies} styled copies of each pen zero and one");
        Require(Ema is >= 0 and < 1, nameof(Ema), Ema, "0 (off) or a decay below 1, such as 0.999");
        Require(Enum.IsDefined(BestBy), nameof(BestBy), BestBy, "loss or accuracy");
        Require(Enum.IsDefined(Scheduler), nameof(Scheduler), Scheduler, "none, step, cosine, plateau or onecycle");
        Require(Enum.IsDefined(Precision), nameof(Precision), Precision, "fp32 or bf16");
        return this;
    }
}
