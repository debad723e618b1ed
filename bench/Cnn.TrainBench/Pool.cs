using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>2×2 average pooling, forward and backward, by libtorch's avg_pool2d and by the alternatives to it.</summary>
internal static class PoolBench
{
    public static void Run()
    {
        foreach (long[] shape in new[] { new long[] { 64, 6, 28, 28 }, [64, 16, 10, 10] })
        {
            using var x = randn(shape).requires_grad_(true);
            long n = shape[0], c = shape[1], h = shape[2], w = shape[3];
            var cases = new (string, Func<Tensor, Tensor>)[]
            {
                ("avg_pool2d", t => nn.functional.avg_pool2d(t, 2, 2)),
                ("view.sum*0.25", t => t.view(n, c, h / 2, 2, w / 2, 2).sum([3, 5]).mul(0.25f)),
                ("view.mean", t => t.view(n, c, h / 2, 2, w / 2, 2).mean([3, 5])),
                ("4 slices", t => (t[.., .., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2)] + t[.., .., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(1, null, 2)]
                    + t[.., .., TensorIndex.Slice(1, null, 2), TensorIndex.Slice(0, null, 2)] + t[.., .., TensorIndex.Slice(1, null, 2), TensorIndex.Slice(1, null, 2)]) / 4f),
            };
            using var module = nn.AvgPool2d(2, 2);
            cases = [.. cases, ("Kernels.AveragePool2x2", t => Cnn.Train.Kernels.AveragePool2x2.Apply(t, module))];
            using var reference = cases[0].Item2(x).detach();
            foreach (var (name, f) in cases)
            {
                double fwd = 0, bwd = 0;
                for (int i = -100; i < 2000; i++)
                {
                    using var scope = NewDisposeScope();
                    long t0 = Stopwatch.GetTimestamp();
                    var y = f(x);
                    long t1 = Stopwatch.GetTimestamp();
                    y.backward([ones_like(y)]);
                    long t2 = Stopwatch.GetTimestamp();
                    x.grad!.zero_();
                    if (i >= 0)
                    {
                        fwd += Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds;
                        bwd += Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds;
                    }
                }

                using var check = f(x).detach();
                Console.WriteLine($"[{string.Join(",", shape)}] {name,-24} fwd {fwd / 2000,7:F1} µs  bwd {bwd / 2000,7:F1} µs  max diff {(check - reference).abs().max().item<float>():G3}");
            }
        }
    }
}
