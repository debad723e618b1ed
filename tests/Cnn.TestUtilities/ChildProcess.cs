using System.Diagnostics;

namespace Cnn.Tests;

/// <summary>
/// Child processes for the tests that need a real process (a signal, an installed tool, the SDK): output captured,
/// libtorch's OpenMP workers passive (they spin otherwise and stall the other test assemblies), a time limit.
/// </summary>
public static class ChildProcess
{
    public static Process Start(string file, string workingDirectory, IEnumerable<string> args)
    {
        // Through env, which execs in place (same PID): a job a non-interactive shell starts in the background inherits
        // SIGINT ignored, and an ignored signal stays ignored across exec, so a Ctrl-C test run from such a job would
        // interrupt nothing. The child gets the default disposition, as a process started from a terminal has.
        var info = new ProcessStartInfo("env")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add(file);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        return Process.Start(info)!;
    }

    /// <summary>Runs to completion within 5 minutes; returns the exit code and stdout followed by stderr.</summary>
    public static (int ExitCode, string Output) Run(string file, string workingDirectory, params string[] args)
    {
        using var process = Start(file, workingDirectory, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 5 minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
