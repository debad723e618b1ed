using static TorchSharp.torch;

namespace Cnn.Train.Kernels;

/// <summary>
/// The channels-last memory layout (NHWC in memory, still indexed [N, C, H, W]), which TorchSharp 0.107 has no
/// <c>memory_format</c> argument for. libtorch's ops keep the layout of their input, so converting a net's input is
/// enough: oneDNN then convolves NHWC directly instead of reordering to and from its blocked layout around every conv,
/// and the batch-norm and max-pool kernels vectorise over channels (bench/README.md has the measurements).
/// </summary>
internal static class ChannelsLast
{
    /// <summary>
    /// A channels-last copy of <paramref name="input"/> ([N, C, H, W]); the same values (cast to <paramref name="type"/>
    /// when given), the same shape.
    /// </summary>
    public static Tensor From(Tensor input, ScalarType? type = null)
    {
        // The strides are written out rather than made by permute → contiguous → permute: with one channel, contiguous
        // sees nothing to do (a size-1 dimension's stride does not count) and hands back the NCHW strides.
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        var output = empty_strided([n, c, h, w], [h * w * c, 1, w * c, c], dtype: type ?? input.dtype, device: input.device);
        return output.copy_(input);
    }

    /// <summary>Whether <paramref name="input"/> ([N, C, H, W]) is laid out channels-last already.</summary>
    public static bool Is(Tensor input)
    {
        long c = input.shape[1], w = input.shape[3];
        var stride = input.stride();
        return stride[1] == 1 && stride[3] == c && stride[2] == w * c;
    }
}
