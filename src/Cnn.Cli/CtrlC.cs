using Spectre.Console;
namespace Cnn.Cli;

/// <summary>
/// First Ctrl-C asks training to stop after the current batch (the last checkpoint stays valid); a second one ends
/// the process at once.
/// </summary>
internal sealed class CtrlC : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly Spectre.Console.IAnsiConsole _console;

    public CtrlC(Spectre.Console.IAnsiConsole console)
    {
        _console = console;
        Console.CancelKeyPress += OnCancel;
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _source.Dispose();
    }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested)
        {
            return;
        }

        e.Cancel = true;
        _console.MarkupLine("[yellow]Stopping after the current batch (Ctrl-C again to quit at once)...[/]");
        _source.Cancel();
    }
}
