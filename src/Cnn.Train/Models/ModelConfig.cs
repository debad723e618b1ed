using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Cnn.Train.Models;

/// <summary>
/// The architecture of a model, immutable and saved as config.json beside its weights so export and inference
/// rebuild exactly the trained net. Each subtype is one model file's contract; what every net has — input channels,
/// classes, width multiplier — is checked here once.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(LeNet5Config), "lenet5")]
[JsonDerivedType(typeof(CifarCoarseNetConfig), "cifar_coarse_net")]
public abstract record ModelConfig
{
    private readonly int _inChannels;
    private readonly int _numClasses;
    private readonly double _width = 1.0;

    protected ModelConfig(int inChannels, int numClasses)
    {
        InChannels = inChannels;
        NumClasses = numClasses;
    }

    /// <summary>Short name used in run folder names, e.g. "lenet5".</summary>
    [JsonIgnore]
    public abstract string Name { get; }

    public int InChannels
    {
        get => _inChannels;
        init => _inChannels = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(InChannels), value, "input channels must be ≥ 1");
    }

    public abstract int ImageSize { get; init; }

    public int NumClasses
    {
        get => _numClasses;
        init => _numClasses = value >= 2 ? value : throw new ArgumentOutOfRangeException(nameof(NumClasses), value, "classes must be ≥ 2");
    }

    /// <summary>Multiplier of the conv channel counts (1 = the original net).</summary>
    public double Width
    {
        get => _width;
        init => _width = value > 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Width), value, "width must be a positive number (1 = the original net's feature maps)");
    }

    /// <summary>Trainable parameters of the net this config builds, computed without building it.</summary>
    public abstract long ParameterCount();

    /// <summary>Floats every layer outputs for one image in a forward pass, computed without building the net.</summary>
    public abstract long ActivationsPerImage();

    /// <summary>Builds the module with freshly initialised weights (seed torch's generator first for repeatability).</summary>
    public abstract nn.Module<Tensor, Tensor> Build();

    /// <summary>Weights and bias of a conv with a square kernel.</summary>
    protected static long ConvParameters(long inChannels, long outChannels, int kernel) => (inChannels * outChannels * kernel * kernel) + outChannels;

    /// <summary>Weights and bias of a linear layer.</summary>
    protected static long LinearParameters(long inputs, long outputs) => (inputs * outputs) + outputs;

    /// <summary>A base channel count scaled by <see cref="Width"/>, rounded, at least 1.</summary>
    protected int Scaled(int channels)
    {
        double scaled = Math.Round(channels * Width, MidpointRounding.AwayFromZero);
        return scaled <= MaxChannels
            ? Math.Max(1, (int)scaled)
            : throw new ArgumentOutOfRangeException(nameof(Width), Width, $"width {Width:G} gives {scaled:G} channels in a layer; expected at most {MaxChannels:N0}");
    }

    /// <summary>No layer may have more channels than this: far beyond any net this project trains, and within int arithmetic.</summary>
    public const int MaxChannels = 1_000_000;

    /// <summary>Throws unless <paramref name="input"/> is [N, InChannels, ImageSize, ImageSize].</summary>
    internal void CheckInput(Tensor input, string model)
    {
        var expected = new long[] { InChannels, ImageSize, ImageSize };
        if (input.dim() != 4 || !input.shape.Skip(1).SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"{model} input must be [N, {InChannels}, {ImageSize}, {ImageSize}]; got [{string.Join(", ", input.shape)}]", nameof(input));
        }
    }
}
