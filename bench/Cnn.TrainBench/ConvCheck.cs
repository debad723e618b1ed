using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// libtorch's convolutions in float32 and bfloat16, forward and both backward passes, NCHW and channels-last, against
/// float64 — which libtorch computes with its own kernels, not oneDNN's, and which matches an unfold-and-multiply
/// convolution exactly — for the nets' shapes and a few around oneDNN's blocks of 16 channels. Prints each result's
/// largest error relative to its largest value: float32 rounding is about 1e-6, bfloat16's about 4e-3.
/// </summary>
internal static class ConvCheck
{
    private static readonly (int In, int Out, int Size, int Kernel)[] Shapes =
    [
        (1, 6, 28, 5), (6, 16, 14, 5), (1, 12, 28, 5), (12, 32, 14, 5), (1, 15, 28, 5), (15, 40, 14, 5), (24, 64, 14, 5),
        (3, 32, 32, 3), (32, 32, 32, 3), (32, 64, 16, 3), (64, 64, 16, 3), (8, 6, 10, 3), (12, 20, 8, 3),
    ];

    public static void Run()
    {
        using var g = new Generator(11);
        Console.WriteLine("in  out size k  layout          fp32: forward  grad in  grad w    bf16: forward  grad in  grad w");
        foreach (var (cin, cout, size, k) in Shapes)
        {
            foreach (bool channelsLast in new[] { false, true })
            {
                using var scope = NewDisposeScope();
                var x = randn([4, cin, size, size], generator: g);
                var w = randn([cout, cin, k, k], generator: g) * 0.2;
                var up = randn([4, cout, size, size], generator: g);
                var reference = Pass(x, w, up, ScalarType.Float64, channelsLast, k / 2);
                var fp32 = Pass(x, w, up, ScalarType.Float32, channelsLast, k / 2);
                var bf16 = Pass(x, w, up, ScalarType.BFloat16, channelsLast, k / 2);
                Console.WriteLine($"{cin,2} {cout,4} {size,4} {k}  {(channelsLast ? "channels-last" : "NCHW"),-13}  {Errors(fp32, reference)}  {Errors(bf16, reference)}");
            }
        }
    }

    private static Tensor[] Pass(Tensor x, Tensor w, Tensor up, ScalarType type, bool channelsLast, long padding)
    {
        var xi = x.to(type);
        if (channelsLast)
        {
            xi = xi.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        }

        xi = xi.detach().requires_grad_(true);
        var wi = w.to(type).detach().requires_grad_(true);
        var y = F.conv2d(xi, wi, null, padding: [padding, padding]);
        y.backward([up.to(type)]);
        return [y.to(ScalarType.Float64), xi.grad!.to(ScalarType.Float64), wi.grad!.to(ScalarType.Float64)];
    }

    private static string Errors(Tensor[] actual, Tensor[] expected) =>
        string.Join(" ", actual.Zip(expected).Select(p =>
            ((p.First - p.Second).abs().max().item<double>() / p.Second.abs().max().item<double>()).ToString("0.0E+0").PadLeft(8)));
}
