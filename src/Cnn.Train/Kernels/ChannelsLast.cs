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
    /// <summary>A channels-last copy of <paramref name="input"/> ([N, C, H, W]); the same values, the same shape.</summary>
    public static Tensor From(Tensor input) => input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
