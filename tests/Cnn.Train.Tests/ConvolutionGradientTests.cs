using Cnn.Train.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Cnn.Train.Tests;

/// <summary>
/// The nets' gradients in float32 against the same nets in float64, which libtorch computes with its own convolutions
/// (oneDNN has no float64 kernels): where oneDNN runs (LeNet-5 at widths 1 and 2, the CIFAR net) its kernels must be
/// right on the CPU the tests run on, and where <see cref="OneDnnGuard"/> turns it off (width 2.5) libtorch's must.
/// oneDNN 3.7.1 has computed wrong convolutions on NCHW maps of other channel counts on some CPUs (bench/README.md);
/// these fail on a CPU where it does so for the shapes the nets train with. Float32 against float64 over a forward and
/// backward pass of these sizes differs by about 1e-6 of the largest gradient; a kernel that reads memory it never
/// wrote, by tens of percent.
/// </summary>
public sealed class ConvolutionGradientTests
{
    public static TheoryData<string, double> Nets => new()
    {
        { "lenet", 1.0 },
        { "lenet", 2.0 },
        { "lenet", 2.5 },
        { "cifar", 1.0 },
    };

    [Theory]
    [MemberData(nameof(Nets))]
    public void Float32_gradients_are_the_float64_ones_to_rounding(string kind, double width)
    {
        torch.set_num_threads(1);
        using var scope = NewDisposeScope();
        ModelConfig config = kind == "lenet" ? new LeNet5Config { Width = width } : new CifarCoarseNetConfig { Width = width };
        manual_seed(3);
        using var net = config.Build();
        using var generator = new Generator(5);
        using var input = randn([8, config.InChannels, config.ImageSize, config.ImageSize], generator: generator);
        using var labels = randint(0, config.NumClasses, [8], dtype: ScalarType.Int64, generator: generator);
        // Evaluation mode: no dropout mask to draw, batch norm on its running statistics, the same arithmetic in both.
        net.eval();
        var fp32 = Gradients(net, input, labels);
        net.to(ScalarType.Float64);
        using var input64 = input.to(ScalarType.Float64);
        var fp64 = Gradients(net, input64, labels);
        foreach (var (name, expected) in fp64)
        {
            double scale = expected.abs().max().item<double>();
            double worst = (fp32[name].to(ScalarType.Float64) - expected).abs().max().item<double>();
            Assert.True(worst <= 1e-4 * scale, $"{name}: largest difference {worst:G3} against gradients up to {scale:G3}");
        }
    }

    private static Dictionary<string, Tensor> Gradients(nn.Module<Tensor, Tensor> net, Tensor input, Tensor labels)
    {
        net.zero_grad();
        using (var loss = F.cross_entropy(net.call(input), labels))
        {
            loss.backward();
        }

        return net.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
    }
}
