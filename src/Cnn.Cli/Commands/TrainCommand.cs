using System.Globalization;
using Cnn.Train;
using Cnn.Train.Data;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary>
/// What every <c>cnn train</c> command does: a new run or <c>--resume</c>, progress, Ctrl-C, the closing summary. Each
/// model's command says how to load its data and build its config.
/// </summary>
public abstract class TrainCommand<TSettings>(IAnsiConsole console) : AsyncCommand<TSettings>
    where TSettings : TrainSettings
{
    /// <summary>The command line that continues a run, for the Ctrl-C message.</summary>
    protected abstract string CommandName { get; }

    /// <summary>Loads the data and builds the run config of a new run.</summary>
    protected abstract Task<(RunConfig Config, TrainingData Data)> NewRunAsync(TSettings settings, Downloader downloader, CancellationToken cancel);

    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        // Before libtorch allocates anything: keeps freed activations in the process (see GlibcAllocator).
        string allocator = GlibcAllocator.RetainFreedMemory();
        // Surfaces a libtorch load failure as one message naming what is missing, before any tensor is made.
        TorchRuntime.EnsureLoaded();
        using var interrupt = new CtrlC(console);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token).Token;
        RunFolder run;
        RunConfig config;
        TrainingData data;
        bool resume = settings.Resume != null;
        if (resume)
        {
            run = new RunFolder(settings.Resume!);
            var saved = run.ReadConfig();
            var options = saved.Training with
            {
                Threads = settings.Threads ?? saved.Training.Threads,
                Device = settings.Device ?? saved.Training.Device,
            };
            config = saved with { Training = options };
            data = await RunData.LoadAsync(config, cancel);
        }
        else
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            var downloader = new Downloader(http, message => console.MarkupLineInterpolated($"[grey]{message}[/]"));
            (config, data) = await NewRunAsync(settings, downloader, cancel);
            string outDir = settings.Out ?? Path.Combine("runs", $"{config.Model.Name}-{config.Data.Dataset}-{DateTime.Now:yyyyMMdd-HHmmss}");
            run = new RunFolder(outDir);
            if (run.HasConfig)
            {
                data.Dispose();
                throw new IOException($"{run.Path} already holds a run (config.json); continue it with --resume {run.Path} or choose another --out");
            }
        }

        using (data)
        {
            var o = config.Training;
            console.MarkupLineInterpolated(
                $"[bold]{config.Model.Name}[/] on [bold]{config.Data.Dataset}[/] ({config.Data.TrainCount:N0} train / {config.Data.ValidationCount:N0} val / {config.Data.TestCount:N0} test) → {run.Path}");
            console.MarkupLineInterpolated(
                $"[grey]epochs {o.Epochs}, lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {o.BatchSize}, scheduler {o.Scheduler}, patience {o.Patience}, augment {o.Augment}, seed {o.Seed}, threads {o.Threads}, device {o.Device}; {allocator}[/]");
            var outcome = TrainingProgress.Run(console, observer => new Trainer(run, config, data, observer).Fit(resume, cancel));
            if (outcome.Interrupted)
            {
                console.MarkupLineInterpolated(
                    $"[yellow]Interrupted.[/] The checkpoint holds {outcome.EpochsDone} finished epoch(s). Continue with: cnn train {CommandName} --resume {run.Path}");
                return 130;
            }

            var figures = Figures.RunFigures.Write(run, data);
            var s = outcome.Summary!;
            console.MarkupLineInterpolated(
                $"[green]test accuracy {s.TestAccuracy:P2}[/] (best epoch {s.BestEpoch} of {s.EpochsRun}{(s.StoppedEarly ? ", stopped early" : "")}), {s.TrainImagesPerSecond:N0} images/s, {s.Parameters:N0} parameters, peak RSS {s.PeakRssMegabytes:N0} MB");
            console.MarkupLineInterpolated($"run folder: {run.Path} (figures: {string.Join(", ", figures)})");
            return 0;
        }
    }
}

/// <summary><c>cnn train lenet</c>: LeNet-5 on an MNIST-format data set.</summary>
public sealed class TrainLeNetCommand(IAnsiConsole console) : TrainCommand<TrainLeNetSettings>(console)
{
    protected override string CommandName => "lenet";

    protected override Task<(RunConfig Config, TrainingData Data)> NewRunAsync(TrainLeNetSettings settings, Downloader downloader, CancellationToken cancel)
    {
        var dataset = DatasetCatalog.Parse(settings.Dataset);
        return NewRuns.LeNetAsync(dataset, settings.Data, settings.ToOptions(LeNetRecipe.Defaults(dataset)), settings.Width, downloader, cancel);
    }
}

/// <summary><c>cnn train cifar</c>: the 4-conv BatchNorm net on CIFAR-100's coarse (or fine) labels.</summary>
public sealed class TrainCifarCommand(IAnsiConsole console) : TrainCommand<TrainCifarSettings>(console)
{
    protected override string CommandName => "cifar";

    protected override Task<(RunConfig Config, TrainingData Data)> NewRunAsync(TrainCifarSettings settings, Downloader downloader, CancellationToken cancel) =>
        NewRuns.CifarAsync(settings.Data, settings.Labels, settings.ToOptions(CifarRecipe.Defaults()), settings.Width, downloader, cancel);
}

/// <summary>The data and config of a fresh run of each model, shared by <c>cnn train</c> and <c>cnn sweep</c>.</summary>
internal static class NewRuns
{
    public static async Task<(RunConfig Config, TrainingData Data)> LeNetAsync(
        MnistDataset dataset, string? dataFolder, TrainOptions options, double width, Downloader? downloader, CancellationToken cancel)
    {
        options = options.Validated();
        var files = await DatasetCatalog.LocateAsync(dataset, dataFolder, downloader, cancel);
        var data = LeNetRecipe.Load(files, DatasetCatalog.Name(dataset), DatasetCatalog.ClassNames(dataset), options);
        return (new RunConfig(LeNetRecipe.Model(data, width), options, data.Info, data.Normalization, VersionInfo.Current()), data);
    }

    public static async Task<(RunConfig Config, TrainingData Data)> CifarAsync(
        string? dataFolder, string labels, TrainOptions options, double width, Downloader downloader, CancellationToken cancel)
    {
        options = options.Validated();
        string folder = dataFolder ?? DatasetCatalog.CacheFolder(CifarRecipe.DatasetName);
        string found = await Cifar100.EnsureAsync(folder, downloader, cancel: cancel);
        var data = CifarRecipe.Load(found, labels == "fine" ? CifarLabels.Fine : CifarLabels.Coarse, options);
        return (new RunConfig(CifarRecipe.Model(data, width), options, data.Info, data.Normalization, VersionInfo.Current()), data);
    }
}
