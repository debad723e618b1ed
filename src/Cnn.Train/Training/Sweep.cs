using System.Globalization;
using System.Text;
using Cnn.Train.Data;
using Cnn.Train.Recipes;

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

        RequireDistinct(learningRates, "--lr");
        RequireDistinct(widths, "--width");
        RequireDistinct(seeds, "--seeds");

        return [.. from lr in learningRates from w in widths from s in seeds select new SweepPoint(lr, w, s)];
    }

    /// <summary>
    /// Trains (or resumes, or skips) one point as <paramref name="recipe"/> with the request <paramref name="request"/>
    /// makes for it; a saved run is reloaded through its data set.
    /// </summary>
    public static async Task<SweepResult> RunPointAsync(
        string sweepFolder,
        SweepPoint point,
        Recipe recipe,
        Func<SweepPoint, RunRequest> request,
        Downloader? downloader,
        ITrainingObserver? observer = null,
        CancellationToken cancel = default)
    {
        var run = new RunFolder(Path.Combine(sweepFolder, point.FolderName));
        if (File.Exists(run.File(RunFolder.SummaryFile)))
        {
            return new SweepResult(point, run.ReadSummary(), Skipped: true);
        }

        bool resume = run.HasConfig;
        if (resume)
        {
            CheckSameRun(run, run.ReadConfig(), request(point));
        }

        using var prepared = resume
            ? new PreparedRun(run.ReadConfig(), await Datasets.ReloadAsync(run.ReadConfig(), cancel).ConfigureAwait(false))
            : await recipe.PrepareAsync(request(point), downloader, cancel).ConfigureAwait(false);
        var outcome = new Trainer(run, prepared.Config, prepared.Data, observer).Fit(resume, cancel);
        if (outcome.Interrupted)
        {
            throw new OperationCanceledException($"sweep interrupted in {run.Path} after {outcome.EpochsDone} epoch(s); run the same command again to continue");
        }

        return new SweepResult(point, outcome.Summary!, Skipped: false);
    }

    /// <summary>
    /// A point's folder from an earlier invocation is only reused when it was trained as this invocation would train it
    /// (threads and device aside): otherwise its results would be reported under options they were not made with.
    /// </summary>
    private static void CheckSameRun(RunFolder run, RunConfig saved, RunRequest request)
    {
        var differences = new List<string>();
        var (was, now) = (saved.Training with { Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Auto }, request.Options with { Threads = 1, Device = Cnn.Contracts.ExecutionDevice.Auto });
        foreach (var property in typeof(TrainOptions).GetProperties())
        {
            object? a = property.GetValue(was), b = property.GetValue(now);
            if (!Equals(a, b))
            {
                differences.Add(FormattableString.Invariant($"{property.Name} {a} (now {b})"));
            }
        }

        if (saved.Data.Dataset != request.Dataset.Name)
        {
            differences.Add($"data set {saved.Data.Dataset} (now {request.Dataset.Name})");
        }

        if (request.Data?.Folder is { } folder && !saved.Data.Source.StartsWith(Path.GetFullPath(folder), StringComparison.Ordinal))
        {
            differences.Add($"data {saved.Data.Source} (now {Path.GetFullPath(folder)})");
        }

        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                $"{run.Path} was trained with other options: {string.Join(", ", differences)}; give this sweep another --out, or delete that run folder to train it again");
        }
    }

    private static void RequireDistinct<T>(IReadOnlyList<T> values, string option)
    {
        var repeated = values.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0)
        {
            throw new ArgumentException(FormattableString.Invariant($"{option} lists {string.Join(", ", repeated)} more than once; expected each value once"));
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
