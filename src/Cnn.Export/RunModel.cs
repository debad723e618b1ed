using Cnn.Train.Training;
using static TorchSharp.torch;

namespace Cnn.Export;

/// <summary>A run's model with trained weights and its export plan: the TorchSharp side of a verification. Owns the model: dispose it.</summary>
public sealed class RunModel : IDisposable
{
    public RunModel(RunFolder run)
    {
        Config = run.ReadConfig();
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

    public RunConfig Config { get; }

    public nn.Module<Tensor, Tensor> Model { get; }

    public ExportPlan Plan { get; }

    public void Dispose() => Model.Dispose();
}
