using System.Text.RegularExpressions;
using Cnn.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Cnn.Cli;

/// <summary>
/// Turns an exception into one readable error line on stderr and an exit code: 2 for a command line that cannot be
/// parsed, 1 for everything else; the stack trace only for bugs.
/// </summary>
internal static partial class ErrorReport
{
    public static int Print(IAnsiConsole errors, Exception exception, IReadOnlyList<string> args)
    {
        var e = CommandErrors.Unwrap(exception);
        bool expected = CommandErrors.IsUserMistake(e) || e is Cnn.Train.TorchUnavailableException or HttpRequestException
            or Cnn.Train.Training.TrainingDivergedException or Cnn.Train.RunFolderLockedException;
        return CommandErrors.Print(errors, e, Explain(e, args), expected);
    }

    /// <summary>Spectre's parse errors, reworded to name the option and what it takes.</summary>
    private static string Explain(Exception e, IReadOnlyList<string> args)
    {
        if (UnknownOption().Match(e.Message) is { Success: true } unknown)
        {
            string name = unknown.Groups[1].Value;
            string written = name.StartsWith('-') ? name : (name.Length == 1 ? "-" : "--") + name;
            string? suggestion = OptionCatalog.Suggest(name);

            // Spelt right but given to the wrong command (`cnn train --resume` for `cnn train lenet --resume`):
            // suggesting the same spelling back would read as nonsense.
            return suggestion == written
                ? $"unknown option '{written}' here: it belongs to another command or subcommand (see --help)"
                : $"unknown option '{written}'{(suggestion != null ? $"; did you mean {suggestion}?" : "")} (see --help)";
        }

        if (FailedConversion().Match(e.Message) is { Success: true } conversion)
        {
            string value = conversion.Groups[1].Value;
            int at = args.ToList().IndexOf(value);
            string? option = at > 0 && args[at - 1].StartsWith("--", StringComparison.Ordinal) ? args[at - 1] : null;
            string? expected = option == null ? null : OptionCatalog.Expected(option);
            if (option != null)
            {
                return $"{option} is '{value}'; expected {expected ?? "another kind of value"}";
            }
        }

        return e.Message;
    }

    [GeneratedRegex(@"^Unknown option '([^']+)'")]
    private static partial Regex UnknownOption();

    [GeneratedRegex(@"^Failed to convert '([^']*)' to ")]
    private static partial Regex FailedConversion();
}
