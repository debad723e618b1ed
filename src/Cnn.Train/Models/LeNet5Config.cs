namespace Cnn.Train.Models;

/// <summary>
/// LeNet-5 as in the seed: conv1 (6·W maps, 5×5, pad 2) → ReLU → 2×2 average pool → conv2 (16·W maps, 5×5) → ReLU →
/// 2×2 average pool → fc 120 → fc 84 → fc classes. <see cref="ModelConfig.Width"/> scales the conv channels for the
/// "number of feature maps" experiment.
/// </summary>
public sealed record LeNet5Config : ModelConfig
{
    public const int Conv1BaseChannels = 6;
    public const int Conv2BaseChannels = 16;
    public const int KernelSize = 5;
    public const int Conv1Padding = 2;
    public const int PoolSize = 2;
    public const int Fc1Features = 120;
    public const int Fc2Features = 84;

    private readonly int _imageSize = 28;

    public LeNet5Config() : base(inChannels: 1, numClasses: 10)
    {
    }

    public override string Name => "lenet5";

    public override int ImageSize
    {
        get => _imageSize;
        init => _imageSize = SizesFor(value).Pool2 >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ImageSize), value, $"LeNet-5 needs images large enough for a 1×1 pool2 output; {value}×{value} gives {SizesFor(value).Pool2}×{SizesFor(value).Pool2}");
    }

    public int Conv1Channels => Scaled(Conv1BaseChannels);

    public int Conv2Channels => Scaled(Conv2BaseChannels);

    /// <summary>Side of conv1's output: padding keeps the input size.</summary>
    public int Conv1OutputSize => SizesFor(ImageSize).Conv1;

    public int Pool1OutputSize => SizesFor(ImageSize).Pool1;

    public int Conv2OutputSize => SizesFor(ImageSize).Conv2;

    public int Pool2OutputSize => SizesFor(ImageSize).Pool2;

    /// <summary>Inputs of fc1: 16·W × 5 × 5 = 400 for 28×28 images at width 1.</summary>
    public int FlattenedSize => Conv2Channels * Pool2OutputSize * Pool2OutputSize;

    private static (int Conv1, int Pool1, int Conv2, int Pool2) SizesFor(int imageSize)
    {
        int conv1 = imageSize + (2 * Conv1Padding) - KernelSize + 1;
        int pool1 = conv1 / PoolSize;
        int conv2 = pool1 - KernelSize + 1;
        return (conv1, pool1, conv2, Math.Max(0, conv2) / PoolSize);
    }

    public override long ParameterCount() =>
        ConvParameters(InChannels, Conv1Channels, KernelSize) + ConvParameters(Conv1Channels, Conv2Channels, KernelSize)
        + LinearParameters(FlattenedSize, Fc1Features) + LinearParameters(Fc1Features, Fc2Features) + LinearParameters(Fc2Features, NumClasses);

    /// <inheritdoc />
    /// <remarks>conv1 and its ReLU, pool1, conv2 and its ReLU, pool2, then the three linear layers and their ReLUs.</remarks>
    public override long ActivationsPerImage() =>
        (2L * Conv1Channels * Conv1OutputSize * Conv1OutputSize) + ((long)Conv1Channels * Pool1OutputSize * Pool1OutputSize)
        + (2L * Conv2Channels * Conv2OutputSize * Conv2OutputSize) + FlattenedSize
        + (2L * Fc1Features) + (2L * Fc2Features) + NumClasses;

    public override TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Build() => new LeNet5(this);

}
