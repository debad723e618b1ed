using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Serve.Host;

/// <summary>
/// What `cnn-serve` prints when it cannot start: one error line for a mistake in the command line or the model files
/// (exit 2 for a command line that cannot be parsed, 1 otherwise), the stack trace only for a bug.
/// </summary>
internal static class ServeErrors
{
    public static int Print(IAnsiConsole errors, Exception exception)
    {
        var e = exception is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : exception;
        bool expected = e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException
            or InvalidOperationException or CommandAppException or NotSupportedException
            or Cnn.Inference.InferenceException or Cnn.Contracts.ModelCardException;
        errors.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        if (!expected)
        {
            errors.WriteException(e);
        }

        return e is CommandAppException ? 2 : 1;
    }
}
