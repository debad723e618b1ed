namespace Cnn.Train.Training;

/// <summary>
/// Learning rate as a function of the step, plus the little state the plateau rule needs. Kept apart from the
/// optimizer so it is saved exactly in a checkpoint and a resumed run follows the same curve.
/// </summary>
public sealed class LrSchedule
{
    // PyTorch OneCycleLR's defaults.
    public const double OneCycleWarmupShare = 0.3;
    public const double OneCycleDivFactor = 25;
    public const double OneCycleFinalDivFactor = 1e4;

    private readonly TrainOptions _options;
    private readonly long _totalSteps;
    private readonly int _stepsPerEpoch;

    public LrSchedule(TrainOptions options, int stepsPerEpoch, PlateauState? plateau = null)
    {
        _options = options;
        _stepsPerEpoch = stepsPerEpoch;
        _totalSteps = (long)stepsPerEpoch * options.Epochs;
        Plateau = plateau ?? new PlateauState(options.LearningRate, double.PositiveInfinity, 0);
    }

    /// <summary>The plateau rule's current rate, best loss and epochs without improvement.</summary>
    public PlateauState Plateau { get; private set; }

    /// <summary>Learning rate for the step with 0-based index <paramref name="step"/> over the whole run.</summary>
    public double At(long step)
    {
        double lr = _options.LearningRate;
        switch (_options.Scheduler)
        {
            case SchedulerKind.None:
                return lr;
            case SchedulerKind.Step:
                return lr * Math.Pow(_options.StepGamma, step / _stepsPerEpoch / _options.StepEpochs);
            case SchedulerKind.Cosine:
                return lr * 0.5 * (1 + Math.Cos(Math.PI * step / _totalSteps));
            case SchedulerKind.Plateau:
                return Plateau.LearningRate;
            case SchedulerKind.OneCycle:
                double initial = lr / OneCycleDivFactor;
                double final = initial / OneCycleFinalDivFactor;
                double warmupEnd = (OneCycleWarmupShare * _totalSteps) - 1;
                if (step <= warmupEnd)
                {
                    return Anneal(initial, lr, step / warmupEnd);
                }

                return Anneal(lr, final, (step - warmupEnd) / (_totalSteps - 1 - warmupEnd));
            default:
                throw new InvalidOperationException($"unknown scheduler {_options.Scheduler}");
        }
    }

    /// <summary>Feeds the epoch's validation loss to the plateau rule.</summary>
    public void EpochEnded(double validationLoss)
    {
        if (_options.Scheduler != SchedulerKind.Plateau)
        {
            return;
        }

        // PyTorch's ReduceLROnPlateau default: relative threshold 1e-4.
        if (validationLoss < Plateau.BestLoss * (1 - 1e-4))
        {
            Plateau = Plateau with { BestLoss = validationLoss, BadEpochs = 0 };
        }
        else if (Plateau.BadEpochs + 1 > _options.PlateauPatience)
        {
            Plateau = Plateau with { LearningRate = Plateau.LearningRate * _options.PlateauFactor, BadEpochs = 0 };
        }
        else
        {
            Plateau = Plateau with { BadEpochs = Plateau.BadEpochs + 1 };
        }
    }

    private static double Anneal(double start, double end, double fraction) =>
        end + ((start - end) / 2.0 * (Math.Cos(Math.PI * Math.Clamp(fraction, 0, 1)) + 1));
}

/// <summary>State of the plateau rule, saved in checkpoints.</summary>
public sealed record PlateauState(double LearningRate, double BestLoss, int BadEpochs);
