namespace Cnn.Train.Models;

/// <summary>
/// The seed's CIFAR-100 net: conv1 3→32, conv2 32→32, pool1 (max 2), conv3 32→64, conv4 64→64, pool2 (max 2); every conv
/// 3×3 with padding 1 and followed by BatchNorm2d and ReLU; flatten, fc1 → 256, ReLU, dropout 0.5, fc2 → classes.
/// <see cref="ModelConfig.Width"/> scales the conv channels.
/// </summary>
public sealed record CifarCoarseNetConfig : ModelConfig
{
    public const int Block1BaseChannels = 32;
    public const int Block2BaseChannels = 64;
    public const int KernelSize = 3;
    public const int Padding = 1;
    public const int PoolSize = 2;
    public const int HiddenFeatures = 256;
    public const double DropoutProbability = 0.5;

    private readonly int _imageSize = 32;

    public CifarCoarseNetConfig() : base(inChannels: 3, numClasses: 20)
    {
    }

    public override string Name => "cifar_coarse_net";

    public override int ImageSize
    {
        get => _imageSize;
        init => _imageSize = value >= PoolSize * PoolSize
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ImageSize), value, $"the net pools twice by {PoolSize}; images must be at least {PoolSize * PoolSize}×{PoolSize * PoolSize}");
    }

    public int Block1Channels => Scaled(Block1BaseChannels);

    public int Block2Channels => Scaled(Block2BaseChannels);

    /// <summary>Side after the two poolings (3×3 convs with padding 1 keep the size).</summary>
    public int PooledSize => ImageSize / PoolSize / PoolSize;

    /// <summary>Inputs of fc1: 64·W × 8 × 8 = 4,096 for 32×32 images at width 1.</summary>
    public int FlattenedSize => Block2Channels * PooledSize * PooledSize;

    public override long ParameterCount() =>
        ConvParameters(InChannels, Block1Channels, KernelSize) + ConvParameters(Block1Channels, Block1Channels, KernelSize)
        + ConvParameters(Block1Channels, Block2Channels, KernelSize) + ConvParameters(Block2Channels, Block2Channels, KernelSize)
        + (2L * 2 * (Block1Channels + Block2Channels)) // batch norm weight and bias
        + LinearParameters(FlattenedSize, HiddenFeatures) + LinearParameters(HiddenFeatures, NumClasses);

    /// <inheritdoc />
    /// <remarks>Each conv's output, batch norm and ReLU; the pools; fc1, its ReLU and dropout; fc2.</remarks>
    public override long ActivationsPerImage()
    {
        long side1 = (long)ImageSize * ImageSize, side2 = side1 / (PoolSize * PoolSize);
        return (3 * 2 * Block1Channels * side1) + (Block1Channels * side2)
            + (3 * 2 * Block2Channels * side2) + FlattenedSize
            + (3L * HiddenFeatures) + NumClasses;
    }

    public override TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Build() => new CifarCoarseNet(this);
}
