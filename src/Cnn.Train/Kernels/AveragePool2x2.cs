using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cnn.Train.Kernels;

/// <summary>
/// 2×2, stride-2 average pooling with exactly the arithmetic of libtorch's <c>avg_pool2d</c> — each output is
/// ((a + b) + c + d) / 4 over its window in row order, and the backward pass hands grad / 4 to each of the four inputs —
/// so weights trained through it are bit-identical to those trained through <c>AvgPool2d(2, 2)</c>. It exists for
/// speed: libtorch's NCHW average-pool kernels walk every window with scalar code, and on LeNet-5 they took a fifth of
/// a training step; four strided views and whole-tensor adds and copies take a third of that time (bench/README.md).
/// </summary>
internal static class AveragePool2x2
{
    /// <summary>
    /// Pools <paramref name="input"/> ([N, C, H, W]) with this kernel when <paramref name="module"/> is a plain 2×2,
    /// stride-2 average pool and H and W are even; otherwise (another pool, or a window cut off at the edge) with
    /// <paramref name="module"/> itself.
    /// </summary>
    public static Tensor Apply(Tensor input, AvgPool2d module) =>
        IsPlain2x2(module) && input.dim() == 4 && input.shape[2] % 2 == 0 && input.shape[3] % 2 == 0
            ? Function.apply(input)
            : module.call(input);

    private static bool IsPlain2x2(AvgPool2d module) =>
        module.kernel_size.SequenceEqual([2L, 2L])
        && (module.stride ?? module.kernel_size).SequenceEqual([2L, 2L])
        && (module.padding ?? [0L, 0L]).All(p => p == 0)
        && !module.ceil_mode
        && module.divisor_override == null;

    private sealed class Function : autograd.SingleTensorFunction<Function>
    {
        private const string StridesKey = "strides";

        public override string Name => nameof(AveragePool2x2);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_data(StridesKey, x.stride());
            var even = TensorIndex.Slice(0, null, 2);
            var odd = TensorIndex.Slice(1, null, 2);
            // One new tensor, then in-place adds, in avg_pool2d's order: top-left, top-right, bottom-left, bottom-right.
            using var hold = new ScalarHold();
            var sum = x[.., .., even, even].add(x[.., .., even, odd], hold[1]);
            sum.add_(x[.., .., odd, even], hold[1]).add_(x[.., .., odd, odd], hold[1]);
            return sum.div_(hold[4]);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            long n = gradOutput.shape[0], c = gradOutput.shape[1], h = gradOutput.shape[2], w = gradOutput.shape[3];
            using var hold = new ScalarHold();
            var share = gradOutput.div(hold[4]);
            var gradInput = empty_strided([n, c, h * 2, w * 2], (long[])ctx.get_data(StridesKey), dtype: gradOutput.dtype, device: gradOutput.device);
            // Four strided copies: an expand-and-reshape of the same values runs 3× slower in libtorch.
            for (int row = 0; row < 2; row++)
            {
                for (int column = 0; column < 2; column++)
                {
                    gradInput[.., .., TensorIndex.Slice(row, null, 2), TensorIndex.Slice(column, null, 2)].copy_(share);
                }
            }

            return [gradInput];
        }
    }
}
