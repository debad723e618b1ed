using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>Ways to hand each pooled gradient to its 2×2 window: the backward pass of 2×2 average pooling.</summary>
internal static class ExpandBench
{
    public static void Run()
    {
        using var g = randn(64, 6, 14, 14);
        long n = 64, c = 6, h = 14, w = 14;
        var cases = new (string, Func<Tensor>)[]
        {
            ("expand.reshape", () => g.div(4f).view(n, c, h, 1, w, 1).expand(n, c, h, 2, w, 2).reshape(n, c, h * 2, w * 2)),
            ("upsample_nearest", () => nn.functional.interpolate(g.div(4f), scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)),
            ("repeat_interleave", () => g.div(4f).repeat_interleave(2, 3).repeat_interleave(2, 2)),
            ("empty+4 copies", () =>
            {
                var q = g.div(4f);
                var o = torch.empty(n, c, h * 2, w * 2);
                var v = o.view(n, c, h, 2, w, 2);
                for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++) v[.., .., .., a, .., b].copy_(q);
                return o;
            }),
            ("ones_like 300k", () => ones(n, c, h * 2, w * 2)),
            ("avg_pool2d_backward", () => nn.functional.avg_pool2d_backward(g, zeros(n, c, h * 2, w * 2), [2, 2], [2, 2], [0, 0], false, true, null)),
        };
        using var reference = cases[0].Item2();
        foreach (var (name, f) in cases)
        {
            double us = 0;
            for (int i = -100; i < 2000; i++)
            {
                using var scope = NewDisposeScope();
                long t0 = Stopwatch.GetTimestamp();
                var y = f();
                if (i >= 0) us += Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            using var check = f();
            Console.WriteLine($"{name,-22} {us / 2000,7:F1} µs  same {check.shape.SequenceEqual(reference.shape) && (check - reference).abs().max().item<float>() == 0}");
        }
    }
}
