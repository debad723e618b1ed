using System.Diagnostics;
using System.Reflection;
using Cnn.Tests;

namespace Cnn.Cli.Tests;

/// <summary>Starts the real <c>cnn</c> (dotnet cnn.dll) as a child process, for the tests about the process itself.</summary>
public static class CnnProcess
{
    public static string Dll { get; } = Path.GetFullPath(typeof(CnnProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CnnCliPath").Value!);

    public static Process Start(string workingDirectory, params string[] args) => ChildProcess.Start("dotnet", workingDirectory, [Dll, .. args]);
}
