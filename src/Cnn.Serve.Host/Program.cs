using Cnn.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// cnn-serve MODELS... [options]: `cnn serve` without the rest of the CLI.
var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
    errors.Profile.Width = 240;
}

var app = new CommandApp<ServeCommand>();
app.Configure(config =>
{
    config.SetApplicationName("cnn-serve");
    config.UseStrictParsing();
    config.AddExample("models/lenet5-handwriting.onnx", "--urls", "http://0.0.0.0:8080", "--quiet");
    config.SetExceptionHandler((exception, _) =>
    {
        var e = CommandErrors.Unwrap(exception);
        return CommandErrors.Print(errors, e, e.Message, CommandErrors.IsUserMistake(e));
    });
});
return await app.RunAsync(args);
