using Cnn.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

// Logs and pipes get full lines instead of Spectre's 80-column wrap.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
}

var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
if (Console.IsErrorRedirected)
{
    errors.Profile.Width = 240;
}

var app = new CommandApp();
app.Configure(config => CnnApp.Configure(config, errors, args));
return await app.RunAsync(args);
