using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Cnn.Train.Models;

/// <summary>
/// The architecture of a model, immutable and saved as config.json beside its weights so export and inference
/// rebuild exactly the trained net. Each subtype is one model file's contract.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(LeNet5Config), "lenet5")]
[JsonDerivedType(typeof(CifarCoarseNetConfig), "cifar_coarse_net")]
public abstract record ModelConfig
{
    /// <summary>Short name used in run folder names, e.g. "lenet5".</summary>
    [JsonIgnore]
    public abstract string Name { get; }

    public abstract int InChannels { get; init; }

    public abstract int ImageSize { get; init; }

    public abstract int NumClasses { get; init; }

    /// <summary>Builds the module with freshly initialised weights (seed torch's generator first for repeatability).</summary>
    public abstract nn.Module<Tensor, Tensor> Build();
}
