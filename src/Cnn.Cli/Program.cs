using Cnn.Cli;
using Cnn.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Logs and pipes get full lines instead of Spectre's 80-column wrap.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("cnn");
    config.AddBranch("train", train =>
    {
        train.SetDescription("Train a model into a run folder (weights, config.json, metrics.csv, summary.json).");
        train.AddCommand<TrainLeNetCommand>("lenet")
            .WithDescription("LeNet-5 on MNIST-format digits (digits-5k by default, mnist, fashion-mnist).")
            .WithExample("train", "lenet")
            .WithExample("train", "lenet", "--dataset", "fashion-mnist", "--epochs", "15");
    });
    config.SetExceptionHandler((exception, _) => ErrorReport.Print(AnsiConsole.Console, exception));
});
return await app.RunAsync(args);
