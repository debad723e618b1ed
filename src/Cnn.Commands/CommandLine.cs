using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Commands;

/// <summary>
/// What a command line of this project (`cnn-serve`, and `cnn`, which runs the same serve command) prints when it stops
/// on an error: one error line, exit 2 for a command line that cannot be parsed and 1 otherwise, the stack trace only
/// for a bug — never for a mistake in the command line, a file or the data.
/// </summary>
public static class CommandErrors
{
    /// <summary>The exception that happened, not reflection's wrapper around it.</summary>
    public static Exception Unwrap(Exception exception) =>
        exception is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : exception;

    /// <summary>A user's mistake (options, files, models), as opposed to a bug: reported without a stack trace.</summary>
    public static bool IsUserMistake(Exception e) =>
        e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException
            or InvalidOperationException or CommandAppException or NotSupportedException
            or Cnn.Inference.InferenceException or Cnn.Contracts.ModelCardException;

    /// <summary>Prints <paramref name="message"/> as the error line (the trace too unless <paramref name="expected"/>); returns the exit code.</summary>
    public static int Print(IAnsiConsole errors, Exception e, string message, bool expected)
    {
        errors.MarkupLineInterpolated($"[red]error:[/] {Cnn.Contracts.DisplayText.Escape(message)}");
        if (!expected)
        {
            errors.WriteException(e);
        }

        return e is CommandAppException ? 2 : 1;
    }
}

/// <summary>Settings validation that builds the options the command will use, so each rule lives in one place.</summary>
public static class SettingsCheck
{
    /// <summary>Success when <paramref name="build"/> accepts the settings; its <see cref="ArgumentException"/>'s message as the error otherwise.</summary>
    public static ValidationResult Of(Action build)
    {
        try
        {
            build();
            return ValidationResult.Success();
        }
        catch (ArgumentException e)
        {
            return ValidationResult.Error(e.Message);
        }
    }
}
