using System.Globalization;
using Cnn.Reports;
using Cnn.Train.Data;
using Cnn.Train.Recipes;
using Cnn.Train.Training;
using Cnn.Train;
using Spectre.Console.Cli;
using Spectre.Console;

namespace Cnn.Cli.Commands;

/// <summary>
/// What every <c>cnn train</c> command does: a new run or <c>--resume</c>, the run folder's lock, progress, Ctrl-C,
/// figures and the closing summary. The recipe bound to the settings says how to load the data and build the config.
/// </summary>
public abstract class TrainCommand<TSettings>(IAnsiConsole console) : AsyncCommand<TSettings>
    where TSettings : TrainSettings
{
    public override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        // Before libtorch allocates anything: keeps freed activations in the process (see GlibcAllocator).
        string allocator = GlibcAllocator.RetainFreedMemory();
        // Surfaces a libtorch load failure as one message naming what is missing, before any tensor is made.
        TorchRuntime.EnsureLoaded();
        using var interrupt = new CtrlC(console);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token).Token;
        bool resume = settings.Resume != null;
        var run = new RunFolder(settings.Resume ?? settings.Out ?? DefaultFolder(settings));
        using var prepared = resume ? await ResumeAsync(run, settings, cancel) : await NewRunAsync(run, settings, cancel);
        var config = prepared.Config;
        var o = config.Training;
        console.MarkupLineInterpolated(
            $"[bold]{config.Model.Name}[/] on [bold]{config.Data.Dataset}[/] ({config.Data.TrainCount:N0} train / {config.Data.ValidationCount:N0} val / {config.Data.TestCount:N0} test) → {run.Path}");
        console.MarkupLineInterpolated(
            $"[grey]epochs {o.Epochs}, lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {o.BatchSize}, scheduler {o.Scheduler}, patience {o.Patience}, augment {o.Augment}, seed {o.Seed}, threads {o.Threads}, device {o.Device.ToString().ToLowerInvariant()}{Precision(o)}; {allocator}[/]");
        var outcome = TrainingProgress.Run(console, observer => new Trainer(run, config, prepared.Data, observer).Fit(resume, cancel));
        if (outcome.Interrupted)
        {
            console.MarkupLineInterpolated(
                $"[yellow]Interrupted.[/] The checkpoint holds {outcome.EpochsDone} finished epoch(s). Continue with: cnn train {settings.Recipe.Name} --resume {run.Path}");
            return 130;
        }

        var figures = RunFigures.Write(run, config, prepared.Data, outcome.Summary!, outcome.Test!);
        var s = outcome.Summary!;
        console.MarkupLineInterpolated(
            $"[green]test accuracy {s.TestAccuracy:P2}[/] (best epoch {s.BestEpoch} of {s.EpochsRun}{(s.StoppedEarly ? ", stopped early" : "")}), {s.TrainImagesPerSecond:N0} images/s, {s.Parameters:N0} parameters, peak RSS {s.PeakRssMegabytes:N0} MB");
        if (s.Temperature == 1)
        {
            console.MarkupLineInterpolated($"calibration: test ECE {s.TestEce:P2}; temperature scaling did not lower the validation split's, so export keeps temperature 1");
        }
        else
        {
            console.MarkupLineInterpolated($"calibration: test ECE {s.TestEce:P2} at temperature 1, {s.TestEceCalibrated:P2} at {s.Temperature:F2} (fitted on the validation split; export divides the logits by it)");
        }

        console.MarkupLineInterpolated($"run folder: {run.Path} (figures: {string.Join(", ", figures)})");
        return 0;
    }

    private static string DefaultFolder(TSettings settings) =>
        Path.Combine("runs", $"{settings.Recipe.Name}-{settings.Recipe.Dataset(settings.DatasetName).Name}-{DateTime.Now:yyyyMMdd-HHmmss}");

    private async Task<PreparedRun> NewRunAsync(RunFolder run, TSettings settings, CancellationToken cancel)
    {
        if (run.HasConfig)
        {
            throw new IOException($"{run.Path} already holds a run (config.json); continue it with --resume {run.Path} or choose another --out");
        }

        // Checked before the data is loaded, for a quick answer; Trainer.Fit checks again under the run folder's lock.
        var foreign = !Directory.Exists(run.Path) ? [] : Directory.EnumerateFileSystemEntries(run.Path).Select(Path.GetFileName).Where(n => n != RunLock.FileName).ToList();
        if (foreign.Count > 0)
        {
            throw new IOException($"{run.Path} is not empty ({string.Join(", ", foreign.Take(3))}{(foreign.Count > 3 ? ", …" : "")}); a new run needs a new or empty folder, so nothing there is overwritten");
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        var downloader = new Downloader(http, message => console.MarkupLineInterpolated($"[grey]{message}[/]"));
        return await settings.Recipe.PrepareAsync(settings.Request(), downloader, cancel);
    }

    /// <summary>", precision bf16 (avx512_bf16)" for a bf16 run, naming the CPU's instructions it uses or that it was forced; nothing for fp32.</summary>
    private static string Precision(TrainOptions o) => o.Precision == Cnn.Train.Training.Precision.Fp32
        ? ""
        : $", precision {o.Precision.ToString().ToLowerInvariant()} ({Cnn.Train.Bf16Support.CpuFeatures() ?? (o.ForcePrecision ? "forced: no bfloat16 instructions, emulated" : "no bfloat16 instructions")})";

    private static async Task<PreparedRun> ResumeAsync(RunFolder run, TSettings settings, CancellationToken cancel)
    {
        var saved = run.ReadConfig();
        var recipe = Recipes.For(saved);
        if (recipe != settings.Recipe)
        {
            throw new ArgumentException($"{run.Path} is a {saved.Model.Name} run; continue it with cnn train {recipe.Name} --resume {run.Path}");
        }

        var options = saved.Training with
        {
            Threads = settings.Threads ?? saved.Training.Threads,
            Device = settings.Device ?? saved.Training.Device,
            ForcePrecision = settings.ForceBf16 == true,
        };
        var config = saved with { Training = options.Validated(settings.OptionName) };
        return new PreparedRun(config, await Cnn.Train.Data.Datasets.ReloadAsync(config, cancel));
    }
}

/// <summary><c>cnn train lenet</c>: LeNet-5 on an MNIST-format data set.</summary>
public sealed class TrainLeNetCommand(IAnsiConsole console) : TrainCommand<TrainLeNetSettings>(console);

/// <summary><c>cnn train cifar</c>: the 4-conv BatchNorm net on CIFAR-100's coarse (or fine) labels.</summary>
public sealed class TrainCifarCommand(IAnsiConsole console) : TrainCommand<TrainCifarSettings>(console);
