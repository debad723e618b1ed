using System.Diagnostics;
using Cnn.Train.Data;
using Cnn.Train.Models;
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

/// <summary>The augmentation each architecture trains with when <see cref="TrainOptions.Augment"/> is on.</summary>
public static class Augmentations
{
    public static IAugmentation For(ModelConfig model) => model switch
    {
        LeNet5Config => new AffineJitter(),
        CifarCoarseNetConfig => new CropFlip(),
        _ => throw new NotSupportedException($"no augmentation is defined for {model.Name}"),
    };
}

/// <summary>The data of a run: train / validation / test sets and the normalisation measured on train.</summary>
public sealed class TrainingData(ImageSet train, ImageSet validation, ImageSet test, Normalization normalization, DataInfo info) : IDisposable
{
    public ImageSet Train { get; } = train;
    public ImageSet Validation { get; } = validation;
    public ImageSet Test { get; } = test;
    public Normalization Normalization { get; } = normalization;
    public DataInfo Info { get; } = info;

    /// <summary>
    /// Holds out <see cref="TrainOptions.ValidationFraction"/> of the train file with a permutation drawn from
    /// <see cref="TrainOptions.Seed"/>, measures the normalisation on what is left, and wraps all three sets; every
    /// data set's loader ends here.
    /// </summary>
    public static TrainingData FromSplit(
        IdxImages trainImages, IdxLabels trainLabels, IdxImages testImages, IdxLabels testLabels, int channels,
        IReadOnlyList<string> classNames, TrainOptions options, string dataset, string source, string? labels = null)
    {
        int validationCount = (int)Math.Round(trainImages.Count * options.ValidationFraction);
        if (validationCount < 1 || validationCount >= trainImages.Count)
        {
            throw new InvalidDataException(
                $"{trainImages.Source}: {trainImages.Count} training images with validation fraction {options.ValidationFraction} leave {validationCount} for validation; expected 1..{trainImages.Count - 1}");
        }

        using var all = ImageSet.FromIdx(trainImages, trainLabels, classNames, channels);
        var (train, validation) = all.Split(validationCount, options.Seed);
        var test = ImageSet.FromIdx(testImages, testLabels, classNames, channels);
        var info = new DataInfo(dataset, source, train.Count, validation.Count, test.Count, channels, trainImages.Rows, trainImages.Columns, classNames, labels);
        return new TrainingData(train, validation, test, Normalization.Measure(train), info);
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}

/// <summary>How a call to <see cref="Trainer.Fit"/> ended.</summary>
public sealed record TrainOutcome(RunSummary? Summary, bool Interrupted, int EpochsDone);

/// <summary>
/// Trains a model with Adam and cross-entropy, one dispose scope per batch: validation each epoch, early stopping on
/// validation loss (restoring the best weights), a checkpoint after every epoch, a test evaluation at the end.
/// </summary>
public sealed class Trainer(RunFolder run, RunConfig config, TrainingData data, ITrainingObserver? observer = null)
{
    private readonly ITrainingObserver _observer = observer ?? new NullObserver();

    /// <summary>
    /// Trains from scratch, or from the run folder's checkpoint when <paramref name="resume"/> is set. Cancelling stops
    /// before the next batch; the last checkpoint then stays as it was and the outcome says Interrupted.
    /// </summary>
    public TrainOutcome Fit(bool resume, CancellationToken cancel = default)
    {
        var options = config.Training.Validated();
        var device = TorchRuntime.ResolveDevice(options.Device);
        torch.set_num_threads(options.Threads);
        torch.manual_seed(options.Seed);
        using var model = config.Model.Build();
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        int batches = (data.Train.Count + options.BatchSize - 1) / options.BatchSize;
        var state = new TrainerState(0, 0, double.PositiveInfinity, 0, new PlateauState(options.LearningRate, double.PositiveInfinity, 0), 0, []);
        if (resume)
        {
            state = Checkpoint.Load(run, model, optimizer);
            _observer.Message($"resuming after epoch {state.EpochsDone} of {options.Epochs}");
        }
        else
        {
            run.WriteConfig(config);
        }

        var schedule = new LrSchedule(options, batches, state.Plateau);
        var jitter = options.Augment ? Augmentations.For(config.Model) : null;
        var history = state.History.ToList();
        bool stoppedEarly = options.Patience > 0 && state.EpochsWithoutImprovement >= options.Patience;
        double evalSeconds = 0;
        long evalImages = 0;
        for (int epoch = state.EpochsDone + 1; epoch <= options.Epochs && !stoppedEarly; epoch++)
        {
            var epochResult = TrainEpoch(model, optimizer, schedule, jitter, epoch, batches, device, cancel);
            if (epochResult == null)
            {
                return new TrainOutcome(null, true, state.EpochsDone);
            }

            var (trainLoss, trainAccuracy, lr, seconds) = epochResult.Value;
            long evalStart = Stopwatch.GetTimestamp();
            var (valLoss, valAccuracy) = Evaluate(model, data.Validation, device, options.BatchSize);
            evalSeconds += Stopwatch.GetElapsedTime(evalStart).TotalSeconds;
            evalImages += data.Validation.Count;
            schedule.EpochEnded(valLoss);
            // The first epoch always counts as best so model.pt exists even if the loss is NaN.
            bool improved = valLoss < state.BestValidationLoss || state.BestEpoch == 0;
            if (improved)
            {
                SaveWeights(run, model);
            }

            var metrics = new EpochMetrics(epoch, lr, trainLoss, trainAccuracy, valLoss, valAccuracy, seconds,
                data.Train.Count / seconds, ProcessMemory.RssMegabytes(), ProcessMemory.PeakRssMegabytes());
            history.Add(metrics);
            state = new TrainerState(
                epoch,
                improved ? epoch : state.BestEpoch,
                improved ? valLoss : state.BestValidationLoss,
                improved ? 0 : state.EpochsWithoutImprovement + 1,
                schedule.Plateau,
                state.TrainSeconds + seconds,
                history);
            Checkpoint.Save(run, state, model, optimizer);
            run.WriteMetrics(history);
            _observer.EpochCompleted(metrics, improved);
            stoppedEarly = options.Patience > 0 && state.EpochsWithoutImprovement >= options.Patience && epoch < options.Epochs;
            if (stoppedEarly)
            {
                _observer.Message($"early stop: no better validation loss for {options.Patience} epochs; best was epoch {state.BestEpoch}");
            }
        }

        model.load(run.File(RunFolder.WeightsFile));
        long testStart = Stopwatch.GetTimestamp();
        var (testLoss, testAccuracy) = Evaluate(model, data.Test, device, options.BatchSize);
        evalSeconds += Stopwatch.GetElapsedTime(testStart).TotalSeconds;
        evalImages += data.Test.Count;
        long parameters = model.parameters().Sum(p => p.numel());
        double imagesPerSecond = history.Count == 0 ? 0 : data.Train.Count * history.Count / history.Sum(h => h.Seconds);
        var summary = new RunSummary("completed", testAccuracy, testLoss, state.BestEpoch, state.BestValidationLoss, state.EpochsDone,
            stoppedEarly, imagesPerSecond, evalImages / evalSeconds, parameters, state.TrainSeconds, options.Threads, device.ToString(), ProcessMemory.PeakRssMegabytes());
        run.WriteSummary(summary);
        return new TrainOutcome(summary, false, state.EpochsDone);
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

    private (double Loss, double Accuracy, double LearningRate, double Seconds)? TrainEpoch(
        nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, LrSchedule schedule, IAugmentation? jitter, int epoch, int batches, Device device, CancellationToken cancel)
    {
        var options = config.Training;
        long epochSeed = EpochSeed(options.Seed, epoch);
        torch.manual_seed(epochSeed);
        using var generator = new Generator((ulong)epochSeed);
        using var permutation = randperm(data.Train.Count, generator: generator);
        model.train();
        _observer.EpochStarted(epoch, options.Epochs, batches);
        double lossSum = 0;
        long correct = 0;
        int seen = 0;
        double lr = 0;
        var clock = Stopwatch.StartNew();
        for (int b = 0; b < batches; b++)
        {
            if (cancel.IsCancellationRequested)
            {
                return null;
            }

            using var scope = NewDisposeScope();
            int start = b * options.BatchSize;
            int end = Math.Min(start + options.BatchSize, data.Train.Count);
            var (x, y) = data.Train.Batch(permutation[start..end], device);
            if (jitter != null)
            {
                x = jitter.Apply(x, generator);
            }

            x = data.Normalization.Apply(x);
            lr = schedule.At(((long)(epoch - 1) * batches) + b);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            optimizer.zero_grad();
            var logits = model.call(x);
            var loss = F.cross_entropy(logits, y);
            loss.backward();
            optimizer.step();
            int n = end - start;
            lossSum += loss.item<float>() * n;
            correct += logits.argmax(1).eq(y).sum().item<long>();
            seen += n;
            _observer.BatchCompleted(new BatchProgress(epoch, options.Epochs, b + 1, batches, lossSum / seen, (double)correct / seen,
                seen / clock.Elapsed.TotalSeconds));
        }

        return (lossSum / seen, (double)correct / seen, lr, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Mean cross-entropy and accuracy of <paramref name="model"/> on <paramref name="set"/>, in eval mode.</summary>
    public (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, ImageSet set, Device device, int batchSize)
    {
        model.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int end = Math.Min(start + batchSize, set.Count);
            var (x, y) = set.Batch(arange(start, end, dtype: ScalarType.Int64), device);
            var logits = model.call(data.Normalization.Apply(x));
            lossSum += F.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }

        return (lossSum / set.Count, (double)correct / set.Count);
    }

    /// <summary>Predicted class and its softmax probability for every image of <paramref name="set"/>, in eval mode.</summary>
    public static (int[] Predicted, float[] Confidence) Predict(nn.Module<Tensor, Tensor> model, ImageSet set, Normalization normalization, Device device, int batchSize)
    {
        model.eval();
        using var noGrad = no_grad();
        var predicted = new int[set.Count];
        var confidence = new float[set.Count];
        for (int start = 0; start < set.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int end = Math.Min(start + batchSize, set.Count);
            var (x, _) = set.Batch(arange(start, end, dtype: ScalarType.Int64), device);
            var (best, index) = F.softmax(model.call(normalization.Apply(x)), 1).max(1);
            best.cpu().data<float>().CopyTo(confidence, start);
            var indices = index.cpu().data<long>().ToArray();
            for (int i = 0; i < indices.Length; i++)
            {
                predicted[start + i] = (int)indices[i];
            }
        }

        return (predicted, confidence);
    }

    private sealed class NullObserver : ITrainingObserver;
}
