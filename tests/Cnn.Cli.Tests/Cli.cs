using Spectre.Console.Cli.Testing;
using Spectre.Console.Testing;

namespace Cnn.Cli.Tests;

/// <summary>What a <c>cnn</c> command printed: stdout and stderr apart, and together for searching.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public void Deconstruct(out int exitCode, out string output) => (exitCode, output) = (ExitCode, Output);
}

/// <summary>
/// Runs <c>cnn</c> in this process, as Spectre's <see cref="CommandAppTester"/> does, with the program's own command tree
/// and error handling; wide consoles so nothing wraps. Tests that need the process itself (a signal, the installed
/// tool) use <see cref="CnnProcess"/>.
/// </summary>
public static class Cli
{
    public static CliResult Run(params string[] args)
    {
        var console = new TestConsole().Width(1000);
        var errors = new TestConsole().Width(1000);
        var app = new CommandAppTester(null, new CommandAppTesterSettings(), console);
        app.Configure(config => CnnApp.Configure(config, errors, args));
        var result = app.Run(args);
        return new CliResult(result.ExitCode, result.Output, errors.Output);
    }
}
