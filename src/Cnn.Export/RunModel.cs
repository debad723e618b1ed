using Cnn.Train.Training;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>A run's model with trained weights and its export plan: the TorchSharp side of a verification. Owns the model: dispose it.</summary>
public sealed class RunModel : IDisposable
{
    public RunModel(RunFolder run)
    {
        Path = run.Path;
        Config = run.ReadConfig();
        Summary = File.Exists(run.File(RunFolder.SummaryFile)) ? run.ReadSummary() : null;
        Temperature = OnnxExporter.TemperatureOf(Summary);
        Model = run.LoadModel(Config);
        try
        {
            Plan = ExportPlan.Create(Model, [Config.Model.InChannels, Config.Model.ImageSize, Config.Model.ImageSize]);
        }
        catch
        {
            Model.Dispose();
            throw;
        }
    }

    /// <summary>The run folder.</summary>
    public string Path { get; }

    public RunConfig Config { get; }

    /// <summary>summary.json of a finished run; null while it has none.</summary>
    public RunSummary? Summary { get; }

    public nn.Module<Tensor, Tensor> Model { get; }

    public ExportPlan Plan { get; }

    /// <summary>What the run's export divides the logits by before softmax (1 for a run without a fitted temperature).</summary>
    public double Temperature { get; }

    public void Dispose() => Model.Dispose();
}
