using System.Globalization;
using System.Text;

namespace Cnn.Train.Training;

/// <summary>One point of a sweep grid: a learning rate, a width and a seed.</summary>
public sealed record SweepPoint(double LearningRate, double Width, long Seed)
{
    /// <summary>The run folder's name inside the sweep folder, e.g. <c>lr0.001-w1-s1</c>.</summary>
    public string FolderName => FormattableString.Invariant($"lr{LearningRate:G}-w{Width:G}-s{Seed}");
}

/// <summary>A finished point: its summary, and whether this invocation trained it or found it done.</summary>
public sealed record SweepResult(SweepPoint Point, RunSummary Summary, bool Skipped);

/// <summary>
/// The learning-rate × width × seed grid of the seed's part 3. Each point is an ordinary run folder; a point whose
/// summary.json exists is skipped and one with a checkpoint is resumed, so an interrupted sweep continues where it
/// stopped.
/// </summary>
public static class Sweep
{
    public const string CsvFile = "sweep.csv";
    public const string MarkdownFile = "sweep.md";

    public static IReadOnlyList<SweepPoint> Grid(IReadOnlyList<double> learningRates, IReadOnlyList<double> widths, IReadOnlyList<long> seeds)
    {
        if (learningRates.Count == 0 || widths.Count == 0 || seeds.Count == 0)
        {
            throw new ArgumentException($"a sweep needs at least one learning rate, width and seed; got {learningRates.Count}, {widths.Count} and {seeds.Count}");
        }

        return [.. from lr in learningRates from w in widths from s in seeds select new SweepPoint(lr, w, s)];
    }

    /// <summary>
    /// Trains (or resumes, or skips) one point. <paramref name="newRun"/> builds the config and data of a fresh run
    /// for the point; <paramref name="reload"/> reloads the data of a saved config.
    /// </summary>
    public static SweepResult RunPoint(
        string sweepFolder,
        SweepPoint point,
        Func<SweepPoint, (RunConfig Config, TrainingData Data)> newRun,
        Func<RunConfig, TrainingData> reload,
        ITrainingObserver? observer = null,
        CancellationToken cancel = default)
    {
        var run = new RunFolder(Path.Combine(sweepFolder, point.FolderName));
        if (File.Exists(run.File(RunFolder.SummaryFile)))
        {
            return new SweepResult(point, run.ReadSummary(), Skipped: true);
        }

        bool resume = File.Exists(run.File(RunFolder.CheckpointFile));
        var (config, data) = resume ? (run.ReadConfig(), reload(run.ReadConfig())) : newRun(point);
        using (data)
        {
            var outcome = new Trainer(run, config, data, observer).Fit(resume, cancel);
            if (outcome.Interrupted)
            {
                throw new OperationCanceledException($"sweep interrupted in {run.Path} after {outcome.EpochsDone} epoch(s); run the same command again to continue");
            }

            return new SweepResult(point, outcome.Summary!, Skipped: false);
        }
    }

    /// <summary>Writes sweep.csv (one row per run) and sweep.md (the rows, then mean ± std per setting over seeds).</summary>
    public static void WriteReports(string sweepFolder, IReadOnlyList<SweepResult> results)
    {
        var csv = new StringBuilder("lr,width,seed,parameters,epochs_run,stopped_early,best_epoch,best_val_loss,test_accuracy,train_seconds,run\n");
        foreach (var r in results)
        {
            var s = r.Summary;
            csv.AppendLine(string.Join(',',
                G(r.Point.LearningRate), G(r.Point.Width), r.Point.Seed.ToString(CultureInfo.InvariantCulture), s.Parameters.ToString(CultureInfo.InvariantCulture),
                s.EpochsRun.ToString(CultureInfo.InvariantCulture), s.StoppedEarly ? "true" : "false", s.BestEpoch.ToString(CultureInfo.InvariantCulture),
                G(s.BestValidationLoss), G(s.TestAccuracy), G(s.TrainSeconds), r.Point.FolderName));
        }

        AtomicFile.Write(Path.Combine(sweepFolder, CsvFile), Encoding.UTF8.GetBytes(csv.ToString()));

        var md = new StringBuilder("# Sweep\n\n| lr | width | seed | parameters | epochs run | best val loss | test accuracy | train s |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in results)
        {
            var s = r.Summary;
            md.AppendLine(FormattableString.Invariant(
                $"| {r.Point.LearningRate:G} | {r.Point.Width:G} | {r.Point.Seed} | {s.Parameters:N0} | {s.EpochsRun}{(s.StoppedEarly ? " (early stop)" : "")} | {s.BestValidationLoss:F4} | {s.TestAccuracy:P2} | {s.TrainSeconds:F1} |"));
        }

        var groups = results.GroupBy(r => (r.Point.LearningRate, r.Point.Width)).ToList();
        if (groups.Any(g => g.Count() > 1))
        {
            md.AppendLine("\n## Mean ± std over seeds\n\n| lr | width | runs | test accuracy | best val loss | epochs run |\n| --- | --- | --- | --- | --- | --- |");
            foreach (var g in groups)
            {
                md.AppendLine(FormattableString.Invariant(
                    $"| {g.Key.LearningRate:G} | {g.Key.Width:G} | {g.Count()} | {MeanStd(g.Select(r => r.Summary.TestAccuracy * 100), "F2")} % | {MeanStd(g.Select(r => r.Summary.BestValidationLoss), "F4")} | {MeanStd(g.Select(r => (double)r.Summary.EpochsRun), "F1")} |"));
            }
        }

        AtomicFile.Write(Path.Combine(sweepFolder, MarkdownFile), Encoding.UTF8.GetBytes(md.ToString()));
    }

    /// <summary>"mean ± sample std" of the values.</summary>
    internal static string MeanStd(IEnumerable<double> values, string format)
    {
        var list = values.ToList();
        double mean = list.Average();
        double std = list.Count > 1 ? Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1)) : 0;
        return $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {std.ToString(format, CultureInfo.InvariantCulture)}";
    }

    private static string G(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
