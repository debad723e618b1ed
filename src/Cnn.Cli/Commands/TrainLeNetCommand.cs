using System.Globalization;
using Cnn.Train;
using Cnn.Train.Data;
using Cnn.Train.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli.Commands;

/// <summary><c>cnn train lenet</c>: trains LeNet-5 on an MNIST-format data set into a run folder.</summary>
public sealed class TrainLeNetCommand(IAnsiConsole console) : AsyncCommand<TrainLeNetSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TrainLeNetSettings settings, CancellationToken cancellationToken)
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
            data = await RunData.LoadAsync(saved with { Training = options }, cancel);
            config = saved with { Training = options };
        }
        else
        {
            var dataset = DatasetCatalog.Parse(settings.Dataset);
            var options = settings.ToOptions(LeNetRecipe.Defaults(dataset)).Validated();
            string outDir = settings.Out ?? Path.Combine("runs", $"lenet5-{DatasetCatalog.Name(dataset)}-{DateTime.Now:yyyyMMdd-HHmmss}");
            run = new RunFolder(outDir);
            if (run.HasConfig)
            {
                throw new IOException($"{run.Path} already holds a run (config.json); continue it with --resume {run.Path} or choose another --out");
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            var downloader = new Downloader(http, message => console.MarkupLineInterpolated($"[grey]{message}[/]"));
            var files = await DatasetCatalog.LocateAsync(dataset, settings.Data, downloader, cancel);
            data = LeNetRecipe.Load(files, DatasetCatalog.Name(dataset), DatasetCatalog.ClassNames(dataset), options);
            var model = LeNetRecipe.Model(data, settings.Width);
            config = new RunConfig(model, options, data.Info, data.Normalization, VersionInfo.Current());
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
                    $"[yellow]Interrupted.[/] The checkpoint holds {outcome.EpochsDone} finished epoch(s). Continue with: cnn train lenet --resume {run.Path}");
                return 130;
            }

            var s = outcome.Summary!;
            console.MarkupLineInterpolated(
                $"[green]test accuracy {s.TestAccuracy:P2}[/] (best epoch {s.BestEpoch} of {s.EpochsRun}{(s.StoppedEarly ? ", stopped early" : "")}), {s.TrainImagesPerSecond:N0} images/s, {s.Parameters:N0} parameters, peak RSS {s.PeakRssMegabytes:N0} MB");
            console.MarkupLineInterpolated($"run folder: {run.Path}");
            return 0;
        }
    }
}
