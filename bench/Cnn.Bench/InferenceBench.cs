using System.Diagnostics;
using Cnn.Inference;
using SkiaSharp;

namespace Cnn.Bench;

/// <summary>Cnn.Inference on one core: what an app embedding it gets.</summary>
internal static class InferenceBench
{
    public static int Run(string modelPath, int iterations, int threads)
    {
        using var model = CnnModel.Load(modelPath, new InferenceOptions { IntraOpThreads = threads });
        var random = new Random(1);
        var one = Enumerable.Range(0, model.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        const int batch = 64;
        var many = Enumerable.Range(0, model.InputLength * batch).Select(_ => (float)random.NextDouble()).ToArray();
        Console.WriteLine($"{Path.GetFileName(modelPath)}, {threads} intra-op thread(s), {iterations:N0} iterations, {Environment.ProcessorCount} cores");

        var predict = Time(iterations, () => model.Predict(one));
        Report("CnnModel.Predict, batch 1", predict);
        var features = Time(iterations, () => model.GetFeatureMaps(one));
        Report("CnnModel.GetFeatureMaps (all), batch 1", features);
        Console.WriteLine($"  all feature maps / plain prediction (p50): {features.P50 / predict.P50:F2}×");

        int batches = Math.Max(100, iterations / 64);
        var batched = Time(batches, () => model.PredictBatch(many, batch));
        Report("CnnModel.PredictBatch, batch 64", batched);
        Console.WriteLine($"  batch-64 throughput: {batch / (batched.Mean / 1e6):N0} images/s on {threads} thread(s)");

        string png = Path.Combine(Path.GetTempPath(), $"cnn-bench-{Environment.ProcessId}.png");
        try
        {
            using (var surface = SKSurface.Create(new SKImageInfo(model.Width, model.Height)))
            {
                surface.Canvas.Clear(SKColors.Black);
                using var pen = new SKPaint { Color = SKColors.White, StrokeWidth = 3 };
                surface.Canvas.DrawLine(model.Width / 2f, 4, model.Width / 2f, model.Height - 4, pen);
                using var image = surface.Snapshot();
                using var data = image.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(png, data.ToArray());
            }

            using var pipeline = new MlNetPipeline(modelPath, model);
            var engine = pipeline.CreatePredictionEngine();
            var input = new ImageFileInput { ImagePath = png };
            var mlnet = Time(Math.Max(200, iterations / 10), () => engine.Predict(input));
            Report($"ML.NET PredictionEngine (reads a {model.Width}×{model.Height} PNG each call)", mlnet);
            var direct = Time(Math.Max(200, iterations / 10), () => model.PredictImage(png));
            Report("CnnModel.PredictImage (same PNG, decode + preprocess + predict)", direct);
        }
        finally
        {
            File.Delete(png);
        }

        return 0;
    }

    private sealed record Timing(double P50, double P99, double Mean);

    private static Timing Time(int iterations, Action action)
    {
        for (int i = 0; i < Math.Min(500, iterations); i++)
        {
            action();
        }

        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(times);
        return new Timing(times[iterations / 2], times[(int)(iterations * 0.99)], times.Average());
    }

    private static void Report(string label, Timing t) =>
        Console.WriteLine($"{label,-66} p50 {t.P50,8:F1} µs   p99 {t.P99,8:F1} µs   mean {t.Mean,8:F1} µs");
}
