using Cnn.Inference;

namespace Cnn.Bench;

/// <summary>What reading an image file costs before the net runs: decoding, then the model card's preprocessing.</summary>
internal static class PrepareBench
{
    public static int Run(string modelPath, IReadOnlyList<string> images, int iterations)
    {
        // One ONNX Runtime thread, as `cnn serve` runs each call: a second would spin between calls on the core the
        // preprocessing needs.
        using var model = CnnModel.Load(modelPath, new InferenceOptions { IntraOpThreads = 1 });
        Console.WriteLine($"{Path.GetFileName(modelPath)} ({model.Card.Preprocessing} preprocessing), {iterations:N0} iterations each, one thread");
        Console.WriteLine($"{"image",-28} {"step",-10} {"p50 µs",9} {"p99 µs",9} {"mean µs",9}");
        foreach (var path in images)
        {
            var bytes = File.ReadAllBytes(path);
            var decoded = model.Images.Decode(bytes, path);
            var timings = Timing.Interleaved(iterations, () => model.Images.Decode(bytes, path), () => model.Images.Prepare(decoded), () => model.Predict(model.Images.Prepare(decoded).Pixels));
            string name = $"{Path.GetFileName(path)} {decoded.Width}×{decoded.Height}";
            foreach (var (step, t) in new[] { "decode", "prepare", "prepare+predict" }.Zip(timings))
            {
                Console.WriteLine($"{name,-28} {step,-10} {t.P50,9:F1} {t.P99,9:F1} {t.Mean,9:F1}");
            }
        }

        return 0;
    }
}
