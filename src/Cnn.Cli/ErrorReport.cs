using Spectre.Console;

namespace Cnn.Cli;

/// <summary>Turns an exception into one readable error line and an exit code; the stack trace only for bugs.</summary>
internal static class ErrorReport
{
    public static int Print(IAnsiConsole console, Exception exception)
    {
        var e = exception is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : exception;
        bool expected = e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException
            or InvalidOperationException or Cnn.Train.TorchUnavailableException or Spectre.Console.Cli.CommandAppException
            or HttpRequestException or NotSupportedException or Cnn.Inference.InferenceException;
        console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        if (!expected)
        {
            console.WriteException(e);
        }

        return e is Spectre.Console.Cli.CommandAppException ? 2 : 1;
    }
}
