using System.Diagnostics;
using Cnn.Train.Data;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Training;

/// <summary>Live figures of the epoch so far, sent after each batch.</summary>
public sealed record BatchProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy, double ImagesPerSecond);

/// <summary>Receives progress; the CLI draws bars from it, tests count calls.</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int batches) { }

    void BatchCompleted(BatchProgress progress) { }

    void EpochCompleted(EpochMetrics metrics, bool improved) { }

    void Message(string text) { }
}

/// <summary>Mean cross-entropy, accuracy, each image's predicted class with its softmax probability, and the logits (N × classes), over one set.</summary>
public sealed record Evaluation(double Loss, double Accuracy, int[] Predicted, float[] Confidence, float[] Logits)
{
    /// <summary>Counts [true class, predicted class] of these predictions against <paramref name="truth"/>.</summary>
    public int[,] Confusion(IReadOnlyList<int> truth, int classes)
    {
        var counts = new int[classes, classes];
        for (int i = 0; i < truth.Count; i++)
        {
            counts[truth[i], Predicted[i]]++;
        }

        return counts;
    }
}

/// <summary>How a call to <see cref="Trainer.Fit"/> ended; <see cref="Test"/> holds the test set's predictions of the best weights.</summary>
public sealed record TrainOutcome(RunSummary? Summary, bool Interrupted, int EpochsDone, Evaluation? Test = null);

/// <summary>The loss stopped being a finite number; the run folder keeps the last good checkpoint and the best weights.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Trains a model with Adam and cross-entropy, one dispose scope per batch: validation each epoch, early stopping on
/// validation loss (restoring the best weights), a checkpoint after every epoch, a test evaluation at the end. While it
/// trains and evaluates it keeps the process's tiered-compilation worker on Linux's <c>SCHED_IDLE</c> policy
/// (<see cref="JitWorkerPriority"/>), a process-wide setting that also holds after it returns.
/// </summary>
public sealed class Trainer(RunFolder run, RunConfig config, TrainingData data, ITrainingObserver? observer = null)
{
    private readonly ITrainingObserver _observer = observer ?? new NullObserver();
    private readonly TrainOptions _options = config.Training.Validated();

    /// <summary>Called with the model before each epoch trains: a seam for tests that need weights to go bad mid-run.</summary>
    internal Action<int, nn.Module>? BeforeEpoch { get; init; }

    /// <summary>
    /// Trains from scratch, or from the run folder's checkpoint when <paramref name="resume"/> is set (a run stopped
    /// before its first checkpoint starts again from epoch 1). Cancelling stops before the next batch; the last
    /// checkpoint then stays as it was and the outcome says Interrupted.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="RunFolderLockedException">Another training holds the run folder.</exception>
    public TrainOutcome Fit(bool resume, CancellationToken cancel = default)
    {
        ResourceCheck.Check(config with { Training = _options });
        // Held for the whole training: a second training of the same folder is refused instead of interleaving files.
        using var runLock = RunLock.Acquire(run.Path);
        var device = TorchRuntime.ResolveDevice(_options.Device);
        Bf16Support.Check(_options, device);
        torch.set_num_threads(_options.Threads);
        torch.manual_seed(_options.Seed);
        using var model = config.Model.Build();
        Kernels.MixedPrecision.Set(model, _options.Precision);
        model.to(device);
        using var adam = FlatAdam.Create(model, _options.LearningRate);
        using var teacher = _options.Distill is { } distill ? DistillationTeacher.Load(distill, config.Data, _options.Threads) : null;
        using var average = _options.Ema > 0 ? new WeightAverage(adam.Parameters, _options.Ema) : null;
        var session = new Session(model, adam, device, (data.Train.Count + _options.BatchSize - 1) / _options.BatchSize, teacher, average);
        var (state, interrupted) = RunEpochs(session, Begin(resume, session), cancel);
        return interrupted ? new TrainOutcome(null, true, state.EpochsDone) : Finish(session, state);
    }

    /// <summary>Writes the weights to model.pt atomically.</summary>
    public static void SaveWeights(RunFolder run, nn.Module model) =>
        run.WriteAtomic(RunFolder.WeightsFile, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            model.save(writer);
        });

    /// <summary>Per-epoch randomness comes from (seed, epoch) alone, so a resumed run draws what the uninterrupted one drew.</summary>
    internal static long EpochSeed(long seed, int epoch) => unchecked((seed * 1_000_003L) + epoch);

    /// <summary>
    /// Loss, accuracy and per-image predictions of <paramref name="model"/> on <paramref name="set"/> in eval mode,
    /// normalised with <paramref name="normalization"/>.
    /// </summary>
    public static Evaluation Evaluate(nn.Module<Tensor, Tensor> model, ImageSet set, Normalization normalization, Device device, int batchSize)
    {
        model.eval();
        // inference_mode rather than no_grad: no version counters or view tracking on the batch's tensors.
        using var inference = inference_mode(true);
        double lossSum = 0;
        var predicted = new int[set.Count];
        var confidence = new float[set.Count];
        var allLogits = new float[set.Count * set.ClassNames.Count];
        var jitWorker = new JitWorkerPriority();
        for (int start = 0; start < set.Count; start += batchSize)
        {
            jitWorker.LowerIfDue();
            using var scope = NewDisposeScope();
            int end = Math.Min(start + batchSize, set.Count);
            var (x, y) = set.Batch(arange(start, end, dtype: ScalarType.Int64), device);
            var logits = model.call(normalization.Apply(x));
            logits.cpu().contiguous().data<float>().CopyTo(allLogits, start * set.ClassNames.Count);
            lossSum += F.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
            var (best, index) = F.softmax(logits, 1).max(1);
            best.cpu().data<float>().CopyTo(confidence, start);
            // Whole-array copies: TensorAccessor's indexer makes two native calls per element.
            index.to_type(ScalarType.Int32).cpu().data<int>().CopyTo(predicted, start);
        }

        var labels = set.Labels.data<long>().ToArray();
        long correct = 0;
        for (int i = 0; i < set.Count; i++)
        {
            correct += predicted[i] == labels[i] ? 1 : 0;
        }

        return new Evaluation(lossSum / set.Count, (double)correct / set.Count, predicted, confidence, allLogits);
    }

    private TrainerState Begin(bool resume, Session session)
    {
        if (resume && File.Exists(run.File(RunFolder.CheckpointFile)))
        {
            var state = Checkpoint.Load(run, session.Model, session.Adam.Optimizer, session.Average);
            _observer.Message($"resuming after epoch {state.EpochsDone} of {_options.Epochs}");
            return state;
        }

        if (resume)
        {
            _observer.Message("no checkpoint yet (the run stopped during its first epoch): starting from epoch 1");
        }
        else if (run.HasConfig)
        {
            throw new IOException($"{run.Path} already holds a run (config.json); continue it with --resume {run.Path} or choose another --out");
        }

        // With a teacher, the config records the file's SHA-256 as loaded, so a resumed run can check it is the same.
        run.WriteConfig(session.Teacher is { } teacher ? config with { Training = config.Training with { Distill = teacher.Settings } } : config);
        return new TrainerState(0, 0, double.PositiveInfinity, 0, new PlateauState(_options.LearningRate, double.PositiveInfinity, 0), 0, []);
    }

    private (TrainerState State, bool Interrupted) RunEpochs(Session session, TrainerState state, CancellationToken cancel)
    {
        var schedule = new LrSchedule(_options, session.Batches, state.Plateau);
        var jitter = _options.Augment ? Augmentations.For(config.Data.Preprocessing, _options, data.Normalization.Mean[0]) : null;
        for (int epoch = state.EpochsDone + 1; epoch <= _options.Epochs && !StoppedEarly(state, epoch); epoch++)
        {
            var trained = TrainEpoch(session, schedule, jitter, epoch, cancel);
            if (trained == null)
            {
                return (state, true);
            }

            state = EndEpoch(session, schedule, state, epoch, trained.Value);
        }

        return (state, false);
    }

    /// <summary>Early stopping: <see cref="TrainOptions.Patience"/> epochs in a row without a better validation loss.</summary>
    private bool StoppedEarly(TrainerState state, int nextEpoch) =>
        _options.Patience > 0 && state.EpochsWithoutImprovement >= _options.Patience && nextEpoch <= _options.Epochs;

    private TrainerState EndEpoch(Session session, LrSchedule schedule, TrainerState state, int epoch, EpochResult trained)
    {
        long evalStart = Stopwatch.GetTimestamp();
        Evaluation validation;
        bool improved;
        // With a weight average, the average is what is judged and kept; training goes on from the trained weights.
        using (session.Average?.Applied())
        {
            validation = Evaluate(session.Model, data.Validation, data.Normalization, session.Device, _options.BatchSize);
            session.AddEvaluation(Stopwatch.GetElapsedTime(evalStart).TotalSeconds, data.Validation.Count);
            // The first epoch always counts as best so model.pt exists after one epoch.
            improved = state.BestEpoch == 0 || Better(validation, state);
            if (improved)
            {
                SaveWeights(run, session.Model);
            }
        }

        schedule.EpochEnded(validation.Loss);

        var metrics = new EpochMetrics(epoch, trained.LearningRate, trained.Loss, trained.Accuracy, validation.Loss, validation.Accuracy, trained.Seconds,
            data.Train.Count / trained.Seconds, ProcessMemory.RssMegabytes(), ProcessMemory.PeakRssMegabytes());
        var history = state.History.Append(metrics).ToList();
        var next = new TrainerState(
            epoch,
            improved ? epoch : state.BestEpoch,
            improved ? validation.Loss : state.BestValidationLoss,
            improved ? 0 : state.EpochsWithoutImprovement + 1,
            schedule.Plateau,
            state.TrainSeconds + trained.Seconds,
            history);
        Checkpoint.Save(run, next, session.Model, session.Adam.Optimizer, session.Average);
        run.WriteMetrics(history);
        _observer.EpochCompleted(metrics, improved);
        if (StoppedEarly(next, epoch + 1))
        {
            _observer.Message($"early stop: no better validation {(_options.BestBy == BestBy.Accuracy ? "accuracy" : "loss")} for {_options.Patience} epochs; best was epoch {next.BestEpoch}");
        }

        return next;
    }

    /// <summary>Whether this epoch's validation beats the best epoch's, by <see cref="TrainOptions.BestBy"/>.</summary>
    private bool Better(Evaluation validation, TrainerState state) => _options.BestBy == BestBy.Accuracy
        ? validation.Accuracy > state.History[state.BestEpoch - 1].ValidationAccuracy
        : validation.Loss < state.BestValidationLoss;

    private TrainOutcome Finish(Session session, TrainerState state)
    {
        session.Model.load(run.File(RunFolder.WeightsFile));
        long testStart = Stopwatch.GetTimestamp();
        var test = Evaluate(session.Model, data.Test, data.Normalization, session.Device, _options.BatchSize);
        session.AddEvaluation(Stopwatch.GetElapsedTime(testStart).TotalSeconds, data.Test.Count);
        // The best epoch's weights on the validation split: what the temperature is fitted to.
        var validation = Evaluate(session.Model, data.Validation, data.Normalization, session.Device, _options.BatchSize);
        var calibration = TemperatureScaling.Calibrate(validation, data.Validation.Labels.data<long>().ToArray(), test, data.Test.Labels.data<long>().ToArray(), data.Info.ClassNames.Count);
        var history = state.History;
        double imagesPerSecond = history.Count == 0 ? 0 : data.Train.Count * history.Count / history.Sum(h => h.Seconds);
        bool stoppedEarly = state.EpochsDone < _options.Epochs;
        var summary = new RunSummary("completed", test.Accuracy, test.Loss, state.BestEpoch, state.BestValidationLoss, state.EpochsDone, stoppedEarly,
            imagesPerSecond, session.EvalImagesPerSecond, session.Model.parameters().Sum(p => p.numel()), state.TrainSeconds, _options.Threads,
            TorchRuntime.Describe(session.Device), ProcessMemory.PeakRssMegabytes(), calibration.Temperature, calibration.TestEce, calibration.TestEceCalibrated);
        run.WriteSummary(summary);
        return new TrainOutcome(summary, false, state.EpochsDone, test);
    }

    private EpochResult? TrainEpoch(Session session, LrSchedule schedule, IAugmentation? jitter, int epoch, CancellationToken cancel)
    {
        long epochSeed = EpochSeed(_options.Seed, epoch);
        torch.manual_seed(epochSeed);
        using var generator = new Generator((ulong)epochSeed);
        using var permutation = randperm(data.Train.Count, generator: generator);
        session.Model.train();
        BeforeEpoch?.Invoke(epoch, session.Model);
        _observer.EpochStarted(epoch, _options.Epochs, session.Batches);
        double lossSum = 0;
        long correct = 0;
        int seen = 0;
        double lr = 0;
        var clock = Stopwatch.StartNew();
        for (int b = 0; b < session.Batches; b++)
        {
            if (cancel.IsCancellationRequested)
            {
                return null;
            }

            session.JitWorker.LowerIfDue();
            int start = b * _options.BatchSize;
            int end = Math.Min(start + _options.BatchSize, data.Train.Count);
            lr = schedule.At(((long)(epoch - 1) * session.Batches) + b);
            var (loss, hits) = TrainBatch(session, permutation, start, end, jitter, generator, lr);
            CheckFinite(loss, epoch, b + 1, lr);
            lossSum += loss * (end - start);
            correct += hits;
            seen += end - start;
            _observer.BatchCompleted(new BatchProgress(epoch, _options.Epochs, b + 1, session.Batches, lossSum / seen, (double)correct / seen,
                seen / clock.Elapsed.TotalSeconds));
        }

        return new EpochResult(lossSum / seen, (double)correct / seen, lr, clock.Elapsed.TotalSeconds);
    }

    private (float Loss, long Correct) TrainBatch(Session session, Tensor permutation, int start, int end, IAugmentation? jitter, Generator generator, double lr)
    {
        // Everything made for the batch, the slice of the permutation included, is freed with this scope.
        using var scope = NewDisposeScope();
        var (x, y) = data.Train.Batch(permutation[start..end], session.Device);
        if (jitter != null)
        {
            x = jitter.Apply(x, generator);
        }

        // The teacher reads raw intensities, as an exported model does; its normalisation is inside its graph.
        var targets = session.Teacher?.Targets(x);
        x = data.Normalization.Apply(x);
        foreach (var group in session.Adam.Optimizer.ParamGroups)
        {
            group.LearningRate = lr;
        }

        session.Adam.ZeroGrad();
        var logits = session.Model.call(x);
        var loss = F.cross_entropy(logits, y);
        if (targets is not null)
        {
            loss = session.Teacher!.Loss(logits, targets, loss);
        }

        loss.backward();
        session.Adam.Step();
        session.Average?.Update(session.Adam.Steps);
        return (loss.item<float>(), logits.argmax(1).eq(y).sum().item<long>());
    }

    private void CheckFinite(float loss, int epoch, int batch, double lr)
    {
        if (float.IsFinite(loss))
        {
            return;
        }

        string kept = epoch == 1
            ? "no epoch had finished, so there is no checkpoint"
            : $"{run.Path} keeps the checkpoint of epoch {epoch - 1} and the best weights in {RunFolder.WeightsFile}";
        string value = float.IsNaN(loss) ? "NaN" : loss > 0 ? "+infinity" : "-infinity";
        throw new TrainingDivergedException(FormattableString.Invariant(
            $"training diverged: the loss is {value} at epoch {epoch}, batch {batch} (learning rate {lr:G3} at that step, --lr {_options.LearningRate:G}); {kept}. Try a lower --lr."));
    }

    private readonly record struct EpochResult(double Loss, double Accuracy, double LearningRate, double Seconds);

    /// <summary>The model, optimizer and device of one Fit call, and the evaluation time it has spent.</summary>
    private sealed class Session(nn.Module<Tensor, Tensor> model, FlatAdam adam, Device device, int batches, DistillationTeacher? teacher, WeightAverage? average)
    {
        public DistillationTeacher? Teacher { get; } = teacher;

        /// <summary>The moving average of the weights, with <see cref="TrainOptions.Ema"/>; null without.</summary>
        public WeightAverage? Average { get; } = average;

        private double _evalSeconds;
        private long _evalImages;

        public nn.Module<Tensor, Tensor> Model { get; } = model;
        public FlatAdam Adam { get; } = adam;
        public JitWorkerPriority JitWorker { get; } = new();
        public Device Device { get; } = device;
        public int Batches { get; } = batches;
        public double EvalImagesPerSecond => _evalSeconds > 0 ? _evalImages / _evalSeconds : 0;

        public void AddEvaluation(double seconds, long images)
        {
            _evalSeconds += seconds;
            _evalImages += images;
        }
    }

    private sealed class NullObserver : ITrainingObserver;
}
