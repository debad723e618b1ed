using System.Diagnostics;
using Cnn.Contracts;
using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>Opens ONNX Runtime sessions on the device the options ask for, falling back to the CPU when CUDA cannot be used.</summary>
internal static class SessionFactory
{
    /// <summary>A session over <paramref name="model"/> (the file's bytes) and the device it runs on, CPU or CUDA.</summary>
    public static (InferenceSession Session, ExecutionDevice Device) Open(byte[] model, string source, InferenceOptions options, bool warn = true, string? externalData = null)
    {
        ApplyTelemetry(options.OnnxRuntimeTelemetry);
        bool tryCuda = options.Device != ExecutionDevice.Cpu;
        if (tryCuda)
        {
            try
            {
                using var cuda = Options(options, cuda: true, externalData);
                return (new InferenceSession(model, cuda), ExecutionDevice.Cuda);
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                // Auto means "CUDA if there is one"; only an explicit request deserves a warning.
                if (options.Device == ExecutionDevice.Cuda && warn)
                {
                    var report = options.Warning ?? (message => Trace.TraceWarning(message));
                    report($"CUDA execution provider unavailable ({e.Message.Split('\n')[0]}); running on CPU");
                }
            }
        }

        using var cpu = Options(options, cuda: false, externalData);
        try
        {
            return (new InferenceSession(model, cpu), ExecutionDevice.Cpu);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidModelException($"{source}: ONNX Runtime cannot load it: {e.Message}", e);
        }
    }

    /// <summary>What was last asked of ONNX Runtime's process-wide telemetry switch (it offers no way to read it back).</summary>
    internal static bool? TelemetryEnabled { get; private set; }

    private static void ApplyTelemetry(bool enabled)
    {
        if (enabled)
        {
            OrtEnv.Instance().EnableTelemetryEvents();
        }
        else
        {
            // Must precede OrtEnv.Instance(): the uploader starts when ONNX Runtime's environment is created.
            TelemetryOptOut.Apply();
            OrtEnv.Instance().DisableTelemetryEvents();
        }

        TelemetryEnabled = enabled;
    }

    private static SessionOptions Options(InferenceOptions options, bool cuda, string? externalData)
    {
        // ONNX Runtime's own log lines would go to the app's stderr; a failed run reaches the caller as a
        // ModelRunException naming the node instead, so only fatal errors are logged natively.
        var session = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        try
        {
            if (externalData != null)
            {
                // The graph is loaded from bytes (often an in-memory copy with extra outputs): its external data files
                // are found beside the model file, not beside a path ONNX Runtime never saw.
                session.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", externalData);
            }

            if (options.IntraOpThreads > 0)
            {
                session.IntraOpNumThreads = options.IntraOpThreads;
            }

            if (cuda)
            {
                session.AppendExecutionProvider_CUDA(0);
            }

            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
