using System.Globalization;
using Cnn.Inference;
using Cnn.Train.Data.Handwriting;

namespace Cnn.Bench;

/// <summary>
/// The outside handwriting collections (UNIPEN, UCI optdigits and pendigits): what was read and skipped, the
/// writer-disjoint split, and a model's (or an ensemble's) reading of the selection split — per source and per style
/// MNIST barely has — each digit drawn as in training's validation and read through <see cref="ImagePreprocessor.Prepare(DecodedImage)"/>,
/// the path of <c>cnn predict</c>. The selection split is for choosing models; this is where they are read.
/// </summary>
internal static class SourcesBench
{
    private const float Sure = 0.9f;

    public static int Run(string? modelPath, string folder, string split, string? sheet, string? mnistFolder, string? mistakes, int styleCopies)
    {
        var sources = HandwritingSources.Read(folder);
        var assigned = WriterSplit.Assign(sources.Digits);
        Describe(sources, assigned);
        if (sheet != null)
        {
            // With --style-copies, the sheet shows the styled copies training would add (seed 1) instead of the originals.
            var shown = sources.Digits;
            if (styleCopies > 0)
            {
                shown = StyleSynthesis.Copies([.. sources.Digits.Where((_, i) => assigned[i] == HandSplit.Training)], styleCopies, 1);
                Console.WriteLine($"{shown.Count:N0} styled copies: {string.Join(", ", shown.GroupBy(d => (d.Source, d.Label)).OrderBy(g => g.Key).Select(g => $"{g.Count():N0} {g.Key.Source.ToString().ToLowerInvariant()} {g.Key.Label}s"))}");
            }

            WriteSheet(shown, sheet);
        }

        if (modelPath == null)
        {
            return 0;
        }

        var wanted = split == "training" ? HandSplit.Training : HandSplit.Selection;
        var digits = sources.Digits.Where((_, i) => assigned[i] == wanted).ToList();
        var models = modelPath.Split(',').Select(p => CnnModel.Load(p, new InferenceOptions { IntraOpThreads = 1 })).ToList();
        var results = Read(models, digits);
        Console.WriteLine();
        Console.WriteLine($"{string.Join(" + ", models.Select(m => Path.GetFileName(m.Source)))} on the {split} split ({HandwritingMix.SelectionRenders} renderings a digit):");
        Console.WriteLine($"{"source / style",-30} {"images",7} {"accuracy",9} {"wrong > 90 %",13} {"right < 90 %",13}");
        Report("all", results);
        foreach (var source in Enum.GetValues<HandSource>())
        {
            Report(source.ToString().ToLowerInvariant(), results.Where(r => r.Digit.Source == source).ToList());
        }

        foreach (var style in new[] { HandStyle.SlashedZero, HandStyle.FlaggedOne, HandStyle.TwoStrokeFive })
        {
            Report(style.ToString(), results.Where(r => HandStyles.Of(r.Digit) == style).ToList());
        }

        Thresholds(results);
        if (mistakes != null)
        {
            WriteMistakes(results, mistakes);
        }

        if (mnistFolder != null)
        {
            MnistValidation(models, mnistFolder);
        }

        models.ForEach(m => m.Dispose());
        return 0;
    }

    /// <summary>
    /// MNIST's validation split as every run with split seed 1 holds it out (the shipped models' and the candidates'),
    /// read raw as training evaluates it: the other half of what model choices are made on.
    /// </summary>
    private static void MnistValidation(List<CnnModel> models, string folder)
    {
        var mnist = Cnn.Train.Recipes.Recipes.LeNet.Dataset("mnist");
        var options = Cnn.Train.Recipes.Recipes.LeNet.Defaults(mnist) with { Seed = 1, SplitSeed = 1, Threads = 1 };
        using var prepared = Cnn.Train.Recipes.Recipes.LeNet.PrepareAsync(new Cnn.Train.Recipes.RunRequest(mnist, options, Data: new Cnn.Train.Data.DataRequest(folder)), downloader: null).GetAwaiter().GetResult();
        var validation = prepared.Data.Validation;
        var pixels = validation.Images.to_type(TorchSharp.torch.ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
        var labels = validation.Labels.data<long>().ToArray();
        int plane = pixels.Length / labels.Length, right = 0, confidentWrong = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var (best, probability) = HandwritingBench.Mean(models, pixels.AsSpan(i * plane, plane).ToArray());
            right += best == labels[i] ? 1 : 0;
            confidentWrong += best != labels[i] && probability > Sure ? 1 : 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"MNIST validation (split seed 1)",-30} {labels.Length,7:N0} {100.0 * right / labels.Length,8:F2}% {confidentWrong,6:N0}"));
    }

    private static void Describe(HandwritingSources sources, HandSplit[] assigned)
    {
        Console.WriteLine($"{sources.Folder}: {sources.Digits.Count:N0} digits read; skipped {sources.Skipped.SkippedCount:N0}");
        foreach (string line in sources.Skipped.Describe())
        {
            Console.WriteLine($"  skipped {line}");
        }

        Console.WriteLine($"{"source",-10} {"split",-10} {"digits",7} {"writer groups",14} {"0Ø",5} {"1 flag",7} {"5 two",6}");
        foreach (var group in sources.Digits.Select((d, i) => (d, Split: assigned[i])).GroupBy(x => (x.d.Source, x.Split)).OrderBy(g => g.Key))
        {
            var styles = group.Select(x => HandStyles.Of(x.d)).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{group.Key.Source.ToString().ToLowerInvariant(),-10} {group.Key.Split.ToString().ToLowerInvariant(),-10} {group.Count(),7:N0} {group.Select(x => x.d.Writer).Distinct().Count(),14:N0} {styles.Count(s => s == HandStyle.SlashedZero),5} {styles.Count(s => s == HandStyle.FlaggedOne),7} {styles.Count(s => s == HandStyle.TwoStrokeFive),6}"));
        }
    }

    private static List<(HandDigit Digit, float Confidence, bool Correct, int Answer)> Read(List<CnnModel> models, List<HandDigit> digits) =>
        Enumerable.Range(0, digits.Count * HandwritingMix.SelectionRenders).AsParallel().AsOrdered().WithDegreeOfParallelism(2).Select(i =>
        {
            var digit = digits[i / HandwritingMix.SelectionRenders];
            var image = InkRenderer.Draw(digit.Ink, HandRenders.RandomFor(HandwritingMix.SelectionSeed, i / HandwritingMix.SelectionRenders, i % HandwritingMix.SelectionRenders));
            try
            {
                var (best, probability) = HandwritingBench.Mean(models, models[0].Images.Prepare(image).Pixels);
                return (digit, probability, best == digit.Label, best);
            }
            catch (NoInkException)
            {
                return (digit, 0f, false, -1);
            }
        }).ToList();

    /// <summary>Each source's first digits as drawn (top of each pair of rows) and as prepared for the net (below).</summary>
    private static void WriteSheet(IReadOnlyList<HandDigit> digits, string path)
    {
        const int Columns = 16, Cell = 56;
        int every = digits.Count > 2000 ? 97 : 7;
        var picked = Enum.GetValues<HandSource>().SelectMany(s => digits.Where(d => d.Source == s).Where((_, i) => i % every == 0).Take(2 * Columns)).ToList();
        int rows = (picked.Count + Columns - 1) / Columns;
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(Columns * Cell, rows * 2 * Cell));
        surface.Canvas.Clear(SkiaSharp.SKColors.Gray);
        for (int i = 0; i < picked.Count; i++)
        {
            var drawn = InkRenderer.Draw(picked[i].Ink, HandRenders.RandomFor(1, i, 0));
            var prepared = InkRenderer.Prepare(picked[i].Ink, HandRenders.RandomFor(1, i, 0), 28, 28, 0.13, false) ?? new byte[784];
            float x = i % Columns * Cell, y = i / Columns * 2 * Cell;
            using var big = Bitmap(drawn.Rgba.ToArray(), drawn.Width, drawn.Height, rgba: true);
            float scale = (Cell - 4f) / Math.Max(drawn.Width, drawn.Height);
            surface.Canvas.DrawBitmap(big, SkiaSharp.SKRect.Create(x + 2, y + 2, drawn.Width * scale, drawn.Height * scale));
            using var small = Bitmap(prepared, 28, 28, rgba: false);
            surface.Canvas.DrawBitmap(small, SkiaSharp.SKRect.Create(x + 2, y + Cell + 2, Cell - 4, Cell - 4));
        }

        using var data = surface.Snapshot().Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        Console.WriteLine($"wrote {path}");
    }

    /// <summary>
    /// The digits misread in at least one of their renderings, as the pen drew them (UNIPEN and pendigits traced in
    /// one line width, optdigits' bitmap), each captioned label → answer (and how many renderings were misread):
    /// what is left for a model to learn, and which labels a person would dispute.
    /// </summary>
    private static void WriteMistakes(List<(HandDigit Digit, float Confidence, bool Correct, int Answer)> results, string path)
    {
        const int Columns = 16, Cell = 64, Caption = 14;
        var wrong = results.Where(r => !r.Correct).GroupBy(r => r.Digit).Select(g => (g.Key, Answer: g.First().Answer, Count: g.Count())).ToList();
        int rows = Math.Max(1, (wrong.Count + Columns - 1) / Columns);
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(Columns * Cell, rows * (Cell + Caption)));
        surface.Canvas.Clear(SkiaSharp.SKColors.White);
        using var font = new SkiaSharp.SKFont(SkiaSharp.SKTypeface.Default, 11);
        using var caption = new SkiaSharp.SKPaint { Color = SkiaSharp.SKColors.DarkRed, IsAntialias = true };
        for (int i = 0; i < wrong.Count; i++)
        {
            var (digit, answer, count) = wrong[i];
            var drawn = InkRenderer.Draw(digit.Ink, HandRenders.RandomFor(HandwritingMix.SelectionSeed, 0, 0));
            float x = i % Columns * Cell, y = i / Columns * (Cell + Caption);
            using var bitmap = Bitmap(drawn.Rgba.ToArray(), drawn.Width, drawn.Height, rgba: true);
            float scale = (Cell - 6f) / Math.Max(drawn.Width, drawn.Height);
            surface.Canvas.DrawBitmap(bitmap, SkiaSharp.SKRect.Create(x + 3, y + 3, drawn.Width * scale, drawn.Height * scale));
            surface.Canvas.DrawText($"{digit.Label}→{(answer < 0 ? "?" : answer.ToString(CultureInfo.InvariantCulture))} ×{count} {digit.Source.ToString()[0]}", x + 3, y + Cell + Caption - 3, font, caption);
        }

        using var data = surface.Snapshot().Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        // The same digits as text (FILE.tsv), so two models' mistakes can be compared: which digits every model misreads.
        File.WriteAllLines(Path.ChangeExtension(path, ".tsv"), wrong.Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Key.Origin}\t{w.Key.Label}\t{w.Answer}\t{w.Count}")).Prepend("origin\tlabel\tanswer\trenderings misread"));
        Console.WriteLine($"wrote {path} and its .tsv: {wrong.Count:N0} digits misread in {wrong.Sum(w => w.Count):N0} renderings, {wrong.Count(w => w.Count == HandwritingMix.SelectionRenders):N0} in every rendering");
    }

    private static SkiaSharp.SKBitmap Bitmap(byte[] pixels, int width, int height, bool rgba)
    {
        var bitmap = new SkiaSharp.SKBitmap(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul);
        for (int p = 0; p < width * height; p++)
        {
            byte v = rgba ? pixels[4 * p] : pixels[p];
            bitmap.SetPixel(p % width, p / width, new SkiaSharp.SKColor(v, v, v));
        }

        return bitmap;
    }

    /// <summary>
    /// What each unsure threshold would do on these images: the share of right answers it flags (asked again for
    /// nothing) and the share of wrong answers it lets through unflagged.
    /// </summary>
    private static void Thresholds(List<(HandDigit Digit, float Confidence, bool Correct, int Answer)> results)
    {
        int right = Math.Max(1, results.Count(r => r.Correct)), wrong = Math.Max(1, results.Count(r => !r.Correct));
        Console.WriteLine($"{"unsure below",-13} {"right flagged",14} {"wrong unflagged",16}");
        for (int step = 10; step <= 19; step++)
        {
            float t = step * 0.05f;
            int flagged = results.Count(r => r.Correct && r.Confidence < t);
            int through = results.Count(r => !r.Correct && r.Confidence >= t);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{t,-13:F2} {flagged,6:N0} {100.0 * flagged / right,6:F2}% {through,6:N0} {100.0 * through / wrong,7:F2}%"));
        }
    }

    private static void Report(string label, List<(HandDigit Digit, float Confidence, bool Correct, int Answer)> results)
    {
        if (results.Count == 0)
        {
            Console.WriteLine($"{label,-30} {0,7}");
            return;
        }

        int correct = results.Count(r => r.Correct);
        int confidentWrong = results.Count(r => !r.Correct && r.Confidence > Sure);
        int unsureRight = results.Count(r => r.Correct && r.Confidence < Sure);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-30} {results.Count,7:N0} {100.0 * correct / results.Count,8:F2}% {confidentWrong,6:N0} {100.0 * confidentWrong / results.Count,5:F2}% {unsureRight,6:N0} {100.0 * unsureRight / Math.Max(1, correct),5:F2}%"));
    }
}
