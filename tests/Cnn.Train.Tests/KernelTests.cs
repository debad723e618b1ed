using Cnn.Train.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

public class KernelTests
{
    [Theory]
    [InlineData(3, 5, 8, 6)]
    [InlineData(64, 6, 28, 28)]
    [InlineData(2, 16, 10, 10)]
    public void Average_pool_2x2_matches_avg_pool2d_bit_for_bit_forward_and_backward(long n, long c, long h, long w)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var input = randn([n, c, h, w], generator: generator);
        var upstream = randn([n, c, h / 2, w / 2], generator: generator);
        using var pool = nn.AvgPool2d(2, 2);

        var (expected, expectedGrad) = PoolWithGradient(input, upstream, x => pool.call(x));
        var (actual, actualGrad) = PoolWithGradient(input, upstream, x => AveragePool2x2.Apply(x, pool));

        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.equal(expected).all().item<bool>(), "forward differs from avg_pool2d");
        Assert.True(actualGrad.equal(expectedGrad).all().item<bool>(), "input gradient differs from avg_pool2d's");
    }

    [Theory]
    [InlineData(7, 6, 2, 3, 3)] // odd height: a window cut off at the edge
    [InlineData(8, 8, 1, 7, 7)] // overlapping windows (stride 1)
    public void Average_pool_2x2_leaves_other_cases_to_the_module(long height, long width, long stride, long outHeight, long outWidth)
    {
        using var scope = NewDisposeScope();
        var input = rand(2, 3, height, width);
        using var pool = nn.AvgPool2d(2, stride: stride);
        var actual = AveragePool2x2.Apply(input, pool);
        Assert.Equal([2L, 3, outHeight, outWidth], actual.shape);
        Assert.True(actual.equal(pool.call(input)).all().item<bool>());
    }

    [Fact]
    public void Channels_last_keeps_shape_and_values_and_puts_channels_innermost()
    {
        using var scope = NewDisposeScope();
        var input = rand(2, 3, 4, 5);
        var last = ChannelsLast.From(input);
        Assert.Equal(input.shape, last.shape);
        Assert.True(last.equal(input).all().item<bool>());
        Assert.Equal([60L, 1, 15, 3], last.stride());
    }

    [Fact]
    public void Channels_last_of_one_channel_has_channels_last_strides()
    {
        // permute-contiguous-permute returns the input unchanged when C is 1 (a size-1 dimension's stride is ignored),
        // and libtorch then reads the [N, 1, H, W] tensor as NCHW.
        using var scope = NewDisposeScope();
        var input = rand(2, 1, 4, 5);
        var last = ChannelsLast.From(input);
        Assert.True(last.equal(input).all().item<bool>());
        Assert.Equal([20L, 1, 5, 1], last.stride());
    }

    [Fact]
    public void Average_pool_2x2_gradient_has_the_layout_of_its_input()
    {
        // A gradient in another layout than the ReLU output it meets sends libtorch's threshold_backward to its slow
        // strided loop; values must not change either way.
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var input = ChannelsLast.From(randn([2, 6, 8, 8], generator: generator));
        var upstream = randn([2, 6, 4, 4], generator: generator);
        using var pool = nn.AvgPool2d(2, 2);

        var (expected, expectedGrad) = PoolWithGradient(input, upstream, x => pool.call(x));
        var x = input.detach().clone().requires_grad_(true);
        Assert.Equal(input.stride(), x.stride());
        var actual = AveragePool2x2.Apply(x, pool);
        actual.backward([upstream]);

        Assert.Equal(input.stride(), x.grad!.stride());
        Assert.True(actual.equal(expected).all().item<bool>());
        Assert.True(x.grad.equal(expectedGrad).all().item<bool>());
    }

    private static (Tensor Output, Tensor Grad) PoolWithGradient(Tensor input, Tensor upstream, Func<Tensor, Tensor> pool)
    {
        var x = input.detach().clone().requires_grad_(true);
        var output = pool(x);
        output.backward([upstream]);
        return (output.detach(), x.grad!.clone());
    }
}
