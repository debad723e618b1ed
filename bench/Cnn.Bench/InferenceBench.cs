using System.Diagnostics;
using Cnn.Inference;
using Cnn.Inference.MLNet;
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

        using var buffer = model.CreateFeatureMapBuffer();
        var single = Timing.Interleaved(
            iterations,
            () => model.Predict(one),
            () => model.FillFeatureMaps(one, buffer),
            () => model.GetFeatureMaps(one));
        var (predict, fill, features) = (single[0], single[1], single[2]);
        Report("CnnModel.Predict, batch 1", predict);
        Report($"CnnModel.FillFeatureMaps (all {buffer.Names.Count}, reused buffer), batch 1", fill);
        Report("CnnModel.GetFeatureMaps (all, new arrays), batch 1", features);
        Console.WriteLine($"  all feature maps / plain prediction (p50): {fill.P50 / predict.P50:F2}× into a reused buffer, {features.P50 / predict.P50:F2}× into new arrays");

        // Five blocks of back-to-back batches: one block's throughput is what a steady stream of batches gets, and the
        // spread between blocks shows how much the shared machine moved meanwhile.
        int batches = Math.Max(100, iterations / 20);
        var batched = Timing.Of(batches, () => model.PredictBatch(many, batch));
        Report("CnnModel.PredictBatch, batch 64", batched);
        var blocks = Enumerable.Range(0, 5).Select(_ =>
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < batches / 5; i++)
            {
                model.PredictBatch(many, batch);
            }

            return batch * (batches / 5) / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }).ToArray();
        Console.WriteLine($"  batch-64 throughput on {threads} thread(s): {blocks.Order().ElementAt(2):N0} images/s, median of 5 blocks of {batches / 5} batches ({string.Join(", ", blocks.Select(b => b.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))})");

        var shape = model.Card.Input.Shape;
        string png = Path.Combine(Path.GetTempPath(), $"cnn-bench-{Environment.ProcessId}.png");
        try
        {
            using (var surface = SKSurface.Create(new SKImageInfo(shape.Width, shape.Height)))
            {
                surface.Canvas.Clear(SKColors.Black);
                using var pen = new SKPaint { Color = SKColors.White, StrokeWidth = 3 };
                surface.Canvas.DrawLine(shape.Width / 2f, 4, shape.Width / 2f, shape.Height - 4, pen);
                using var image = surface.Snapshot();
                using var data = image.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(png, data.ToArray());
            }

            using var pipeline = new MlNetPipeline(modelPath, model);
            var engine = pipeline.CreatePredictionEngine();
            var input = new ImageFileInput { ImagePath = png };
            var mlnet = Timing.Of(Math.Max(200, iterations / 10), () => engine.Predict(input));
            Report($"ML.NET PredictionEngine (reads a {shape.Width}×{shape.Height} PNG each call)", mlnet);
            var direct = Timing.Of(Math.Max(200, iterations / 10), () => model.PredictImage(png));
            Report("CnnModel.PredictImage (same PNG, decode + preprocess + predict)", direct);
        }
        finally
        {
            File.Delete(png);
        }

        return 0;
    }

    private static void Report(string label, Timing t) =>
        Console.WriteLine($"{label,-66} p50 {t.P50,8:F1} µs   p99 {t.P99,8:F1} µs   mean {t.Mean,8:F1} µs");
}
