using Cnn.Train.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Kernels;

/// <summary>
/// What PyTorch's CPU autocast does for a net's layers, written out, since TorchSharp 0.107 has no autocast: a
/// convolution (of more than one input channel) or linear layer casts its input and its weights to bfloat16 and computes there (oneDNN's bf16 kernels,
/// about twice the float32 rate on CPUs with bfloat16 dot products); autograd casts the gradients back, so the float32
/// master weights get float32 gradients. Activations between layers stay bfloat16 (batch norm, ReLU and pooling take
/// them as they are, batch norm with float32 parameters and statistics), and the net casts its logits to float32
/// before softmax and the loss.
/// </summary>
internal static class MixedPrecision
{
    /// <summary>Makes <paramref name="model"/> compute in <paramref name="precision"/>.</summary>
    /// <exception cref="NotSupportedException">A net that computes in float32 only, asked for another precision.</exception>
    public static void Set(TorchSharp.torch.nn.Module model, Precision precision)
    {
        switch (model)
        {
            case IMixedPrecision net:
                net.Precision = precision;
                break;
            case not null when precision != Precision.Fp32:
                throw new NotSupportedException($"{model.GetName()} computes in fp32 only; expected --precision fp32 for it");
        }
    }

    /// <summary>
    /// <paramref name="conv"/> applied to <paramref name="x"/> in <paramref name="precision"/>, with the module's own
    /// stride, padding, dilation and groups (zero padding, as every conv of these nets has).
    /// </summary>
    public static Tensor Conv(Conv2d conv, Tensor x, Precision precision)
    {
        if (precision == Precision.Fp32)
        {
            return conv.call(x);
        }

        // A convolution of one input channel (LeNet-5's first on grey digits) stays float32: oneDNN 3.7 has no bf16
        // kernel for its weight gradient and falls back to a generic GEMM (x64:gemm:jit), 4.4 ms per LeNet-5 step
        // against float32's 0.39 ms (ONEDNN_VERBOSE, bench/README.md); the dot-product units pair input channels, so
        // one channel gains nothing anyway.
        if (conv.in_channels == 1)
        {
            return conv.call(x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32));
        }

        return Bf16Conv(conv, x, conv.weight!, conv.bias);
    }

    /// <summary>
    /// <paramref name="conv"/> then <paramref name="bn"/>, in <paramref name="precision"/>. In evaluation in bfloat16 the
    /// batch norm's running statistics are folded into the convolution's weights and bias (W·γ/√(σ²+ε),
    /// (b − μ)·γ/√(σ²+ε) + β, as the int8 export folds them), so no batch-norm pass runs over the activations: ATen's
    /// batch norm on bf16 channels-last maps is one of the three element-wise kernels where evaluation loses to PyTorch
    /// (bench/README.md). In float32 the two run as written, so that evaluation computes exactly what the exported
    /// graph's layers do, one after the other.
    /// </summary>
    public static Tensor ConvBatchNorm(Conv2d conv, BatchNorm2d bn, Tensor x, Precision precision, bool training)
    {
        if (training || precision == Precision.Fp32 || conv.in_channels == 1 || bn.running_mean is null || bn.running_var is null)
        {
            return bn.call(Conv(conv, x, precision));
        }

        using var hold = new ScalarHold();
        using var scale = (bn.running_var + hold[bn.eps]).rsqrt_();
        if (bn.weight is not null)
        {
            scale.mul_(bn.weight);
        }

        using var folded = conv.weight! * scale.view(-1, 1, 1, 1);
        using var shift = conv.bias is null ? -bn.running_mean : conv.bias - bn.running_mean;
        shift.mul_(scale);
        if (bn.bias is not null)
        {
            shift.add_(bn.bias, hold[1]);
        }

        return Bf16Conv(conv, x, folded, shift);
    }

    /// <summary><paramref name="fc"/> applied to <paramref name="x"/> in <paramref name="precision"/>.</summary>
    public static Tensor Linear(Linear fc, Tensor x, Precision precision)
    {
        if (precision == Precision.Fp32)
        {
            return fc.call(x);
        }

        using var weight = fc.weight!.to(ScalarType.BFloat16);
        using var bias = fc.bias?.to(ScalarType.BFloat16);
        return F.linear(Bf16(x), weight, bias);
    }

    /// <summary>The net's logits as float32, whatever it computed them in.</summary>
    public static Tensor Logits(Tensor logits) =>
        logits.dtype == ScalarType.Float32 ? logits : logits.to(ScalarType.Float32);

    private static Tensor Bf16(Tensor x) => x.dtype == ScalarType.BFloat16 ? x : x.to(ScalarType.BFloat16);

    /// <summary><paramref name="conv"/>'s geometry with <paramref name="weight"/> and <paramref name="bias"/>, in bf16.</summary>
    private static Tensor Bf16Conv(Conv2d conv, Tensor x, Tensor weight, Tensor? bias)
    {
        using var weight16 = weight.to(ScalarType.BFloat16);
        using var bias16 = bias?.to(ScalarType.BFloat16);
        return F.conv2d(ConvInput(x), weight16, bias16, conv.stride, conv.padding, conv.dilation, conv.groups);
    }

    /// <summary>
    /// A bf16 convolution's input, channels-last: oneDNN 3.7.1's bf16 convolutions on NCHW maps whose channels do not
    /// fill its blocks of 16 read memory they never wrote on some CPUs — on an AMD EPYC of family 26 (Zen 5) LeNet-5's
    /// conv2 (6 → 16) handed conv1 input gradients 30 % off and now and then NaN, where channels-last ones, which have
    /// no blocks to pad, are right on every shape measured (`Cnn.TrainBench convcheck`, bench/README.md). The cast
    /// writes the layout in the same copy.
    /// </summary>
    private static Tensor ConvInput(Tensor x) =>
        x.dtype == ScalarType.BFloat16 && ChannelsLast.Is(x) ? x : ChannelsLast.From(x, ScalarType.BFloat16);
}
