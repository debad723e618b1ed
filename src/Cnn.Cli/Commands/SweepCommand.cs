using System.ComponentModel;
using System.Globalization;
using Cnn.Reports;
using Cnn.Train.Data;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using Cnn.Train;
using Spectre.Console.Cli;
using Spectre.Console;

namespace Cnn.Cli.Commands;

/// <summary>Options of <c>cnn sweep</c>: a grid over learning rate, width and seed, each point trained by the recipe.</summary>
public sealed class SweepSettings : RunSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("lenet or cifar")]
    public string Model { get; init; } = "";

    [CommandOption("--lr <LIST>")]
    [Description("Comma-separated learning rates. Default: 1e-4,3e-4,1e-3,3e-3,1e-2")]
    [DefaultValue("1e-4,3e-4,1e-3,3e-3,1e-2")]
    [Sets(nameof(TrainOptions.LearningRate))]
    public string LearningRates { get; init; } = "1e-4,3e-4,1e-3,3e-3,1e-2";

    [CommandOption("--width <LIST>")]
    [Description("Comma-separated widths (feature-map multipliers). Default: 0.5,1,2")]
    [DefaultValue("0.5,1,2")]
    public string Widths { get; init; } = "0.5,1,2";

    [CommandOption("--seeds <LIST>")]
    [Description("Comma-separated seeds; with several, sweep.md adds mean ± std per setting. Default: 1")]
    [DefaultValue("1")]
    [Sets(nameof(TrainOptions.Seed))]
    public string Seeds { get; init; } = "1";

    [CommandOption("--dataset <NAME>")]
    [Description("The recipe's data set, as for cnn train. Default: digits for lenet, cifar100 for cifar")]
    public string? Dataset { get; init; }

    [CommandOption("--labels <L>")]
    [Description("cifar: coarse or fine. Default: coarse")]
    public CifarLabels? Labels { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Sweep folder (one run folder per point, sweep.csv, sweep.md); running the same command again resumes it. Default: runs/sweep-MODEL-DATASET")]
    public string? Out { get; init; }

    internal override Recipe Recipe => Recipes.Get(Model);

    internal override string? DatasetName => Dataset;

    internal override CifarLabels? LabelSet => Labels;

    internal IReadOnlyList<SweepPoint> Points => Sweep.Grid(
        ParseList(LearningRates, "--lr", double.Parse), ParseList(Widths, "--width", double.Parse), ParseList(Seeds, "--seeds", long.Parse));

    public override ValidationResult Validate()
    {
        try
        {
            var points = Points;
            if (points.Any(p => !(p.LearningRate > 0) || !(p.Width > 0)))
            {
                return ValidationResult.Error($"--lr is '{LearningRates}' and --width is '{Widths}'; expected positive numbers");
            }

            _ = Request(points[0]);
            return ValidationResult.Success();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return ValidationResult.Error(e.Message);
        }
    }

    /// <summary>The request of one point: the recipe's defaults, the sweep's options, the point's rate, seed and width.</summary>
    internal RunRequest Request(SweepPoint point)
    {
        var dataset = Recipe.Dataset(DatasetName);
        CheckLabelSet(dataset);
        var options = WithSharedOptions(Recipe.Defaults(dataset)) with { LearningRate = point.LearningRate, Seed = point.Seed };
        return new RunRequest(dataset, options.Validated(OptionName), point.Width, new DataRequest(Data, LabelSet ?? CifarLabels.Coarse));
    }

    private static List<T> ParseList<T>(string text, string option, Func<string, IFormatProvider, T> parse)
    {
        try
        {
            return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => parse(p, CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatException($"{option} is '{text}'; expected comma-separated numbers such as 1e-3,3e-3");
        }
    }
}

/// <summary>
/// <c>cnn sweep</c>: trains every combination of learning rate, width and seed, each as a normal run folder, then
/// writes sweep.csv and sweep.md. Finished points are skipped and interrupted ones resumed on a second invocation.
/// </summary>
public sealed class SweepCommand(IAnsiConsole console) : AsyncCommand<SweepSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SweepSettings settings, CancellationToken cancellationToken)
    {
        string allocator = GlibcAllocator.RetainFreedMemory();
        TorchRuntime.EnsureLoaded();
        using var interrupt = new CtrlC(console);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token).Token;
        var recipe = settings.Recipe;
        var points = settings.Points;
        string dataset = recipe.Dataset(settings.DatasetName).Name;
        string folder = Path.GetFullPath(settings.Out ?? Path.Combine("runs", $"sweep-{recipe.Name}-{dataset}"));
        // Two sweeps into one folder would race on its points and reports.
        using var sweepLock = RunLock.Acquire(folder);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        var downloader = new Downloader(http, message => console.MarkupLineInterpolated($"[grey]{message}[/]"));
        console.MarkupLineInterpolated($"[bold]sweep[/] {recipe.Name} on {dataset}: {points.Count} runs → {folder} [grey]({allocator})[/]");

        var results = new List<SweepResult>();
        try
        {
            await ProgressAsync(points.Count, async advance =>
            {
                foreach (var point in points)
                {
                    var result = await Sweep.RunPointAsync(folder, point, recipe, settings.Request, downloader, observer: null, cancel);
                    results.Add(result);
                    Report(result, results.Count, points.Count);
                    advance(results.Count);
                }
            });
        }
        catch (OperationCanceledException e)
        {
            console.MarkupLineInterpolated($"[yellow]Interrupted.[/] {e.Message}");
            return 130;
        }

        Sweep.WriteReports(folder, results);
        var plots = SweepFigures.Write(folder, results);
        console.MarkupLineInterpolated($"wrote {Path.Combine(folder, Sweep.CsvFile)}, {Path.Combine(folder, Sweep.MarkdownFile)} and {string.Join(", ", plots.Select(Path.GetFileName))}");
        return 0;
    }

    private void Report(SweepResult result, int done, int total)
    {
        var m = result.Summary;
        var p = result.Point;
        string line = FormattableString.Invariant(
            $"[{done}/{total}] lr {p.LearningRate:G} width {p.Width:G} seed {p.Seed}: test {m.TestAccuracy:P2}, {m.EpochsRun} epochs{(m.StoppedEarly ? " (early stop)" : "")}, {m.TrainSeconds:F1} s");
        console.MarkupLine(Markup.Escape(line) + (result.Skipped ? " [grey](done before, skipped)[/]" : ""));
    }

    /// <summary>A bar over the points on a terminal; plain lines elsewhere.</summary>
    private async Task ProgressAsync(int total, Func<Action<int>, Task> run)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            await run(_ => { });
            return;
        }

        await console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("sweep", maxValue: total);
                await run(done => task.Value = done);
            });
    }
}
