using System.Runtime.InteropServices;

namespace Cnn.Inference;

/// <summary>
/// ONNX Runtime's own opt-out, <c>ORT_DISABLE_TELEMETRY=1</c>, in the native environment before ONNX Runtime creates
/// its environment. Since 1.29 its Linux and macOS builds start a telemetry uploader, events and a persisted device
/// identifier when that environment is created, before <c>DisableTelemetryEvents</c> can be called; only this variable
/// stops them. .NET keeps its own copy of the environment on Unix, so it is set with libc's <c>setenv</c>. A value
/// the application or the operator set already is left as it is.
/// </summary>
internal static partial class TelemetryOptOut
{
    public const string Variable = "ORT_DISABLE_TELEMETRY";

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            // Windows builds report through ETW, which DisableTelemetryEvents turns off.
            return;
        }

        _ = SetEnv(Variable, "1", overwrite: 0);
    }

    /// <summary>The variable as native code sees it (null when unset or on Windows).</summary>
    public static string? Current() =>
        OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? Marshal.PtrToStringUTF8(GetEnv(Variable)) : null;

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);
}
