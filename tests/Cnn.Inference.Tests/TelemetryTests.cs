using Cnn.Tests;

namespace Cnn.Inference.Tests;

/// <summary>ONNX Runtime's telemetry switch is process-wide, so these run alone: no other test loads a model meanwhile.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    [Fact]
    public void Onnx_runtime_telemetry_is_off_unless_the_app_turns_it_on()
    {
        using (CnnModel.Load(Repository.ModelPath))
        {
            Assert.False(SessionFactory.TelemetryEnabled);
            // The opt-out ONNX Runtime reads when its environment starts, as native code sees it.
            Assert.Equal(OperatingSystem.IsWindows() ? null : "1", TelemetryOptOut.Current());
        }

        using (CnnModel.Load(Repository.ModelPath, new InferenceOptions { OnnxRuntimeTelemetry = true }))
        {
            Assert.True(SessionFactory.TelemetryEnabled);
        }

        using (CnnModel.Load(Repository.ModelPath))
        {
            Assert.False(SessionFactory.TelemetryEnabled);
        }
    }
}
