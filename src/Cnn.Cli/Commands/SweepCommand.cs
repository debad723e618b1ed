using System.ComponentModel;
using System.Globalization;
using Cnn.Train;
using Cnn.Train.Data;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn sweep</c>.</summary>
public sealed class SweepSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("lenet or cifar")]
    public string Model { get; init; } = "";

    [CommandOption("--lr <LIST>")]
    [Description("Comma-separated learning rates. Default: 1e-4,3e-4,1e-3,3e-3,1e-2")]
    [DefaultValue("1e-4,3e-4,1e-3,3e-3,1e-2")]
    public string LearningRates { get; init; } = "1e-4,3e-4,1e-3,3e-3,1e-2";

    [CommandOption("--width <LIST>")]
    [Description("Comma-separated widths (feature-map multipliers). Default: 0.5,1,2")]
    [DefaultValue("0.5,1,2")]
    public string Widths { get; init; } = "0.5,1,2";

    [CommandOption("--seeds <LIST>")]
    [Description("Comma-separated seeds; with several, sweep.md adds mean ± std per setting. Default: 1")]
    [DefaultValue("1")]
    public string Seeds { get; init; } = "1";

    [CommandOption("--epochs <N>")]
    [Description("Maximum epochs per run. Default: the model's and data set's (as cnn train)")]
    public int? Epochs { get; init; }

    [CommandOption("--patience <N>")]
    [Description("Early stopping patience per run; 0 = off. Default: as cnn train")]
    public int? Patience { get; init; }

    [CommandOption("--scheduler <S>")]
    [Description("none, step, cosine, plateau or onecycle. Default: onecycle")]
    public string? Scheduler { get; init; }

    [CommandOption("--dataset <NAME>")]
    [Description("lenet: digits, mnist or fashion-mnist (default digits); cifar: cifar100")]
    public string? Dataset { get; init; }

    [CommandOption("--data <DIR>")]
    [Description("Data folder, as for cnn train")]
    public string? Data { get; init; }

    [CommandOption("--labels <L>")]
    [Description("cifar: coarse or fine. Default: coarse")]
    [DefaultValue("coarse")]
    public string Labels { get; init; } = "coarse";

    [CommandOption("--threads <N>")]
    [Description("libtorch CPU threads. Default: the number of cores")]
    public int? Threads { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Sweep folder (one run folder per point, sweep.csv, sweep.md); running the same command again resumes it. Default: runs/sweep-MODEL-DATASET")]
    public string? Out { get; init; }

    internal IReadOnlyList<double> LearningRateList => ParseList(LearningRates, "--lr", double.Parse);

    internal IReadOnlyList<double> WidthList => ParseList(Widths, "--width", double.Parse);

    internal IReadOnlyList<long> SeedList => ParseList(Seeds, "--seeds", long.Parse);

    public override ValidationResult Validate()
    {
        if (Model is not ("lenet" or "cifar"))
        {
            return ValidationResult.Error($"model is '{Model}'; expected lenet or cifar");
        }

        try
        {
            if (LearningRateList.Any(v => !(v > 0)) || WidthList.Any(v => !(v > 0)))
            {
                return ValidationResult.Error($"--lr is '{LearningRates}' and --width is '{Widths}'; expected positive numbers");
            }

            _ = SeedList;
        }
        catch (FormatException e)
        {
            return ValidationResult.Error(e.Message);
        }

        if (Scheduler != null && !TrainSettings.TryParseScheduler(Scheduler, out _))
        {
            return ValidationResult.Error($"--scheduler is '{Scheduler}'; expected none, step, cosine, plateau or onecycle");
        }

        return Epochs is < 1 ? ValidationResult.Error($"--epochs is {Epochs}; expected ≥ 1")
            : Patience is < 0 ? ValidationResult.Error($"--patience is {Patience}; expected ≥ 0")
            : Threads is < 1 ? ValidationResult.Error($"--threads is {Threads}; expected ≥ 1")
            : ValidationResult.Success();
    }

    private static List<T> ParseList<T>(string text, string option, Func<string, IFormatProvider, T> parse)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => parse(p, CultureInfo.InvariantCulture)).ToList();
        }
        catch (FormatException)
        {
            throw new FormatException($"{option} is '{text}'; expected comma-separated numbers such as 1e-3,3e-3");
        }
    }
}

/// <summary>
/// <c>cnn sweep</c>: trains every combination of learning rate, width and seed, each as a normal run folder, then
/// writes sweep.csv and sweep.md. Finished points are skipped and interrupted ones resumed on a second invocation.
/// </summary>
public sealed class SweepCommand(IAnsiConsole console) : Command<SweepSettings>
{
    public override int Execute(CommandContext context, SweepSettings settings, CancellationToken cancellationToken)
    {
        string allocator = GlibcAllocator.RetainFreedMemory();
        TorchRuntime.EnsureLoaded();
        using var interrupt = new CtrlC(console);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token).Token;
        bool cifar = settings.Model == "cifar";
        var dataset = cifar ? MnistDataset.Digits : DatasetCatalog.Parse(settings.Dataset ?? "digits");
        string datasetName = cifar ? CifarRecipe.DatasetName : DatasetCatalog.Name(dataset);
        var defaults = cifar ? CifarRecipe.Defaults() : LeNetRecipe.Defaults(dataset);
        var baseOptions = defaults with
        {
            Epochs = settings.Epochs ?? defaults.Epochs,
            Patience = settings.Patience ?? defaults.Patience,
            Scheduler = settings.Scheduler != null && TrainSettings.TryParseScheduler(settings.Scheduler, out var s) ? s : defaults.Scheduler,
            Threads = settings.Threads ?? Environment.ProcessorCount,
        };
        string folder = settings.Out ?? Path.Combine("runs", $"sweep-{settings.Model}-{datasetName}");
        var points = Sweep.Grid(settings.LearningRateList, settings.WidthList, settings.SeedList);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        var downloader = new Downloader(http, message => console.MarkupLineInterpolated($"[grey]{message}[/]"));
        console.MarkupLineInterpolated($"[bold]sweep[/] {settings.Model} on {datasetName}: {points.Count} runs → {Path.GetFullPath(folder)} [grey]({allocator})[/]");

        (RunConfig, TrainingData) NewRun(SweepPoint p)
        {
            var options = baseOptions with { LearningRate = p.LearningRate, Seed = p.Seed };
            var task = cifar
                ? NewRuns.CifarAsync(settings.Data, settings.Labels, options, p.Width, downloader, cancel)
                : NewRuns.LeNetAsync(dataset, settings.Data, options, p.Width, downloader, cancel);
            return task.GetAwaiter().GetResult();
        }

        TrainingData Reload(RunConfig config) => RunData.LoadAsync(config, cancel).GetAwaiter().GetResult();

        var results = new List<SweepResult>();
        void RunAll(Action<int>? advance)
        {
            foreach (var point in points)
            {
                var result = Sweep.RunPoint(folder, point, NewRun, Reload, observer: null, cancel);
                results.Add(result);
                var m = result.Summary;
                string line = FormattableString.Invariant(
                    $"[{results.Count}/{points.Count}] lr {point.LearningRate:G} width {point.Width:G} seed {point.Seed}: test {m.TestAccuracy:P2}, {m.EpochsRun} epochs{(m.StoppedEarly ? " (early stop)" : "")}, {m.TrainSeconds:F1} s");
                console.MarkupLine(Markup.Escape(line) + (result.Skipped ? " [grey](done before, skipped)[/]" : ""));
                advance?.Invoke(results.Count);
            }
        }

        try
        {
            if (console.Profile.Capabilities.Interactive)
            {
                console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("sweep", maxValue: points.Count);
                        RunAll(done => task.Value = done);
                    });
            }
            else
            {
                RunAll(null);
            }
        }
        catch (OperationCanceledException e)
        {
            console.MarkupLineInterpolated($"[yellow]Interrupted.[/] {e.Message}");
            return 130;
        }

        Sweep.WriteReports(folder, results);
        var plots = Figures.SweepFigures.Write(folder, results);
        console.MarkupLineInterpolated($"wrote {Path.Combine(folder, Sweep.CsvFile)}, {Path.Combine(folder, Sweep.MarkdownFile)} and {string.Join(", ", plots.Select(Path.GetFileName))}");
        return 0;
    }
}
