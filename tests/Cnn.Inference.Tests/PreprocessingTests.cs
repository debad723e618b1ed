using Cnn.Contracts;
using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Inference.Tests;

public sealed class PreprocessingTests : IDisposable
{
    private readonly CnnModel _model = CnnModel.Load(Repository.ModelPath, new InferenceOptions { IntraOpThreads = 1 });
    private readonly TempFolder _dir = new();

    public void Dispose()
    {
        _model.Dispose();
        _dir.Dispose();
    }

    /// <summary>How many of the first 30 test digits (all 30 read correctly as stored) each drawing style keeps readable; README lists them.</summary>
    public static TheoryData<string, int> Styles => new()
    {
        { "inverted", 30 },
        { "off-centre", 30 },
        { "tiny on large canvas", 30 },
        { "grey noisy paper", 30 },
        { "rgba alpha", 30 },
        { "very thick", 30 },
        { "very thin", 30 },
        { "white on black", 30 },
    };

    private static byte[] Draw(string style, int i) => style switch
    {
        "inverted" => Digits.Drawing(i, 200, 200, 30, 30, 5),
        "off-centre" => Digits.Drawing(i, 300, 240, 190, 10, 3),
        "tiny on large canvas" => Digits.Drawing(i, 1000, 800, 700, 90, 1),
        "grey noisy paper" => Digits.Drawing(i, 160, 160, 20, 30, 4, noisyGrey: true, seed: i),
        "rgba alpha" => Digits.Drawing(i, 150, 150, 10, 10, 4, transparent: true),
        "very thick" => Digits.Drawing(i, 140, 140, 0, 0, 4, thicken: 1),
        "very thin" => Digits.Drawing(i, 140, 140, 0, 0, 4, thin: true),
        "white on black" => Digits.Drawing(i, 120, 90, 40, 5, 2, whiteOnBlack: true),
        _ => throw new ArgumentException(style),
    };

    /// <summary>
    /// The counts are what the pipeline gives today (deterministic: same model, same drawings), so any change to the
    /// preprocessing or the model shows here and in README's table, better or worse.
    /// </summary>
    [Theory]
    [MemberData(nameof(Styles))]
    public void Drawings_are_recognised_after_preprocessing(string style, int expected)
    {
        int correct = 0;
        const int n = 30;
        for (int i = 0; i < n; i++)
        {
            var prepared = _model.Images.Prepare(Draw(style, i), $"{style} {i}");
            // Thinning a marker-thick stroke takes up to two pixels off each end as well.
            AssertMnistLike(prepared, minBox: style == "very thick" ? 14 : 18);
            correct += _model.Predict(prepared.Pixels).Index == Digits.Label(i) ? 1 : 0;
        }

        Assert.Equal(expected, correct);
    }

    /// <summary>MNIST's shape: ink fits a 20-px box, background 0, centre of mass within a pixel of the centre.</summary>
    private static void AssertMnistLike(PreparedImage p, int minBox)
    {
        Assert.Equal((1, 28, 28), (p.Channels, p.Height, p.Width));
        Assert.All(p.Pixels, v => Assert.InRange(v, 0f, 1f));
        int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
        double mass = 0, sx = 0, sy = 0;
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
            {
                float v = p.Pixels[(y * 28) + x];
                if (v > 0)
                {
                    (x0, x1, y0, y1) = (Math.Min(x0, x), Math.Max(x1, x), Math.Min(y0, y), Math.Max(y1, y));
                }

                mass += v;
                sx += v * x;
                sy += v * y;
            }
        }

        Assert.InRange(Math.Max(x1 - x0 + 1, y1 - y0 + 1), minBox, 22);
        Assert.InRange(sx / mass, 12.5, 14.5);
        Assert.InRange(sy / mass, 12.5, 14.5);
    }

    /// <summary>
    /// A digit photographed on grainy grey paper comes out with strokes near full intensity, as MNIST's are (its
    /// digits' cores are 1; averaging down to 28 px leaves a little less). Cutting at the threshold alone, as the
    /// preprocessing did before it kept the soft edges, left the brightest pixel at 0.77 here.
    /// </summary>
    [Fact]
    public void A_photographed_digit_keeps_its_strokes_at_full_intensity()
    {
        for (int i = 0; i < 10; i++)
        {
            float brightest = _model.Images.Prepare(Draw("grey noisy paper", i), $"digit {i}").Pixels.Max();
            Assert.True(brightest >= 0.85f, $"digit {i}: brightest stroke pixel {brightest:F2}; expected about 1, as MNIST's strokes are");
        }
    }

    [Fact]
    public void The_preprocessed_image_can_be_shown()
    {
        var prepared = _model.Images.Prepare(Draw("inverted", 0), "x");
        var png = prepared.EncodePng(scale: 4);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((112, 112), (bitmap.Width, bitmap.Height));
        // Each net pixel is a 4×4 block of its grey value.
        int brightest = Array.IndexOf(prepared.Pixels, prepared.Pixels.Max());
        var c = bitmap.GetPixel((brightest % 28 * 4) + 3, (brightest / 28 * 4) + 3);
        Assert.Equal((byte)Math.Round(prepared.Pixels[brightest] * 255), c.Red);
    }

    [Fact]
    public void A_stream_a_file_and_bytes_give_the_same_input()
    {
        var bytes = Draw("off-centre", 3);
        string file = _dir.Combine("three.png");
        File.WriteAllBytes(file, bytes);
        using var stream = new MemoryStream(bytes);

        var fromStream = _model.Images.Prepare(stream, "stream");
        Assert.Equal(_model.Images.Prepare(bytes, "bytes").Pixels, fromStream.Pixels);
        Assert.Equal(fromStream.Pixels, _model.Images.Prepare(file).Pixels);
        Assert.Equal("stream", fromStream.Source);
        Assert.Equal(Digits.Label(3), _model.PredictImage(file).Index);
    }

    [Fact]
    public void A_stream_longer_than_any_allowed_image_is_refused_while_reading()
    {
        using var strict = CnnModel.Load(Repository.ModelPath, new InferenceOptions { MaxImagePixels = 100 });
        using var stream = new MemoryStream(new byte[2000]);
        var e = Assert.Throws<ImageTooLargeException>(() => strict.Images.Prepare(stream, "upload"));
        Assert.Equal("upload: the stream is over 800 bytes; the limit follows from InferenceOptions.MaxImagePixels", e.Message);
    }

    [Fact]
    public void Gray_models_resize_the_grey_image_over_white()
    {
        using var gray = WithPreprocessing("gray");
        Assert.Equal(PreprocessingKind.Gray, gray.Card.Preprocessing);

        // Left half black, right half transparent (white paper), shrunk 4× across: columns up to 12 see black only and
        // from 15 white only; 13 and 14 straddle the edge, where the triangle filter (support ±4 source pixels) gives
        // 1/8 and 7/8 of white.
        using var surface = SKSurface.Create(new SKImageInfo(112, 56));
        surface.Canvas.Clear(SKColors.Transparent);
        using (var black = new SKPaint { Color = SKColors.Black })
        {
            surface.Canvas.DrawRect(0, 0, 56, 56, black);
        }

        var prepared = gray.Images.Prepare(Digits.Png(surface), "halves");
        Assert.Equal((1, 28, 28), (prepared.Channels, prepared.Height, prepared.Width));
        for (int y = 0; y < 28; y++)
        {
            Assert.Equal(0f, prepared.Pixels[(y * 28) + 0]);
            Assert.Equal(0f, prepared.Pixels[(y * 28) + 12]);
            Assert.Equal(1f, prepared.Pixels[(y * 28) + 15], 6);
            Assert.Equal(1f, prepared.Pixels[(y * 28) + 27], 6);
            Assert.Equal(0.125f, prepared.Pixels[(y * 28) + 13], 6);
            Assert.Equal(0.875f, prepared.Pixels[(y * 28) + 14], 6);
        }

        // Grey is BT.601 luma of the colour.
        using var red = SKSurface.Create(new SKImageInfo(10, 10));
        red.Canvas.Clear(new SKColor(255, 0, 0));
        Assert.All(gray.Images.Prepare(Digits.Png(red), "red").Pixels, v => Assert.Equal(0.299f, v, 5));
    }

    [Fact]
    public void A_tiny_image_is_refused_for_digits_with_its_size()
    {
        using var surface = SKSurface.Create(new SKImageInfo(2, 2));
        surface.Canvas.Clear(SKColors.White);
        var e = Assert.Throws<NoInkException>(() => _model.Images.Prepare(Digits.Png(surface), "dot.png"));
        Assert.Equal("dot.png: image is 2×2; a handwritten digit needs at least 8×8 pixels", e.Message);
    }

    [Fact]
    public void Not_an_image_is_refused()
    {
        var e = Assert.Throws<InvalidImageException>(() => _model.Images.Prepare("hello, world"u8.ToArray(), "notes.txt"));
        Assert.StartsWith("notes.txt: not an image SkiaSharp can decode", e.Message);
        var empty = Assert.Throws<InvalidImageException>(() => _model.Images.Prepare([], "empty.png"));
        Assert.Equal("empty.png: empty file; expected an image (PNG, JPEG, BMP, WebP)", empty.Message);
        var folder = Assert.Throws<InvalidImageException>(() => _model.Images.Prepare(_dir.Path));
        Assert.Equal($"{_dir.Path}: is a folder; expected an image file", folder.Message);
    }

    [Fact]
    public void A_truncated_image_is_refused()
    {
        var png = Digits.Drawing(0, 300, 300, 10, 10, 8, noisyGrey: true);
        var e = Assert.Throws<InvalidImageException>(() => _model.Images.Prepare(png[..(png.Length / 2)], "cut.png"));
        Assert.StartsWith("cut.png: image data is truncated or corrupt", e.Message);
    }

    [Fact]
    public void A_zero_size_image_is_refused()
    {
        // A BMP header that declares 0×1 pixels.
        var bmp = new byte[58];
        "BM"u8.CopyTo(bmp);
        BitConverter.GetBytes(58).CopyTo(bmp, 2);
        BitConverter.GetBytes(54).CopyTo(bmp, 10);
        BitConverter.GetBytes(40).CopyTo(bmp, 14);
        BitConverter.GetBytes(0).CopyTo(bmp, 18);
        BitConverter.GetBytes(1).CopyTo(bmp, 22);
        BitConverter.GetBytes((short)1).CopyTo(bmp, 26);
        BitConverter.GetBytes((short)24).CopyTo(bmp, 28);
        Assert.Throws<InvalidImageException>(() => _model.Images.Prepare(bmp, "zero.bmp"));
    }

    [Fact]
    public void An_image_over_the_pixel_limit_is_refused_before_decoding()
    {
        using var strict = CnnModel.Load(Repository.ModelPath, new InferenceOptions { MaxImagePixels = 10_000 });
        var e = Assert.Throws<ImageTooLargeException>(() => strict.Images.Prepare(Digits.Drawing(0, 200, 100, 0, 0, 3), "big.png"));
        Assert.Equal("big.png: image is 200×100 = 20,000 pixels; the limit is 10,000 (InferenceOptions.MaxImagePixels)", e.Message);
    }

    [Fact]
    public void A_blank_page_has_no_ink()
    {
        var blank = Digits.Drawing(0, 100, 100, 500, 500, 1);
        var e = Assert.Throws<NoInkException>(() => _model.Images.Prepare(blank, "blank.png"));
        Assert.Equal("blank.png: no ink found: grey levels span 255..255; expected strokes that differ from the paper by at least 24", e.Message);
    }

    [Fact]
    public void Stroke_weight_moves_towards_the_training_mean()
    {
        var frame = new float[28 * 28];
        for (int y = 4; y < 24; y++)
        {
            for (int x = 8; x < 20; x++)
            {
                frame[(y * 28) + x] = 1;
            }
        }

        // A 20×12 block at mean 0.31 is over 2.2 × 0.1: two erosions take a pixel off each side, twice.
        var thinner = StrokeWeight.Normalise(frame, 28, 28, targetInk: 0.1);
        Assert.Equal(16 * 8 / 784.0, thinner.Average(), 6);
        var line = new float[28 * 28];
        for (int y = 4; y < 24; y++)
        {
            line[(y * 28) + 14] = 1;
        }

        // A 1-px line at mean 0.026 is under 0.45 × 0.1: one dilation with the cross makes it 3 px wide and 1 px longer at
        // each end (62 pixels, mean 0.079), which is within bounds, so it stops there.
        var thicker = StrokeWeight.Normalise(line, 28, 28, targetInk: 0.1);
        Assert.Equal(62 / 784.0, thicker.Average(), 6);
        Assert.Equal(frame, StrokeWeight.Normalise(frame, 28, 28, targetInk: frame.Average()));
    }

    [Fact]
    public void Otsu_takes_the_first_level_of_equal_separation_and_matches_a_brute_force_search()
    {
        // Two levels: every threshold between them separates equally; Otsu's first maximum is the darker level's bin.
        var gray = Enumerable.Repeat(40 / 255f, 500).Concat(Enumerable.Repeat(200 / 255f, 300)).ToArray();
        Assert.Equal(41 / 256f, InkAnalysis.Otsu(gray));

        var random = new Random(4);
        for (int trial = 0; trial < 20; trial++)
        {
            var values = Enumerable.Range(0, 2000).Select(_ => (float)random.NextDouble() * (random.Next(2) == 0 ? 0.5f : 1f)).ToArray();
            Assert.Equal(BruteForceOtsu(values), InkAnalysis.Otsu(values));
        }
    }

    [Fact]
    public void Select_near_and_the_ink_box_match_their_plain_definitions()
    {
        var random = new Random(6);
        for (int trial = 0; trial < 50; trial++)
        {
            // Few distinct values, so ties (the hard case of a quickselect) are everywhere.
            var values = Enumerable.Range(0, random.Next(1, 300)).Select(_ => random.Next(12) / 11f).ToArray();
            int k = random.Next(values.Length);
            var sorted = values.Order().ToArray();
            Assert.Equal(sorted[k], InkAnalysis.Select((float[])values.Clone(), k));

            int w = random.Next(1, 40), h = random.Next(1, 40), radius = random.Next(0, 4);
            var ink = Enumerable.Range(0, w * h).Select(_ => random.Next(25) == 0 ? 1f : 0f).ToArray();
            var marks = new byte[w * h];
            InkAnalysis.Near(ink, w, h, radius, marks);
            var near = marks.Select(m => m != 0).ToArray();
            var box = InkAnalysis.BoundingBox(ink, w, h);
            var set = Enumerable.Range(0, w * h).Where(i => ink[i] > 0).Select(i => (X: i % w, Y: i / w)).ToArray();
            for (int i = 0; i < w * h; i++)
            {
                int x = i % w, y = i / w;
                Assert.Equal(set.Any(p => Math.Max(Math.Abs(p.X - x), Math.Abs(p.Y - y)) <= radius), near[i]);
            }

            var expected = set.Length == 0 ? (w, h, -1, -1) : (set.Min(p => p.X), set.Min(p => p.Y), set.Max(p => p.X), set.Max(p => p.Y));
            Assert.Equal(expected, box);
        }
    }

    /// <summary>The threshold bin maximising weight_b · weight_f · (mean_b − mean_f)², by trying every bin.</summary>
    private static float BruteForceOtsu(float[] values)
    {
        var bins = values.Select(v => Math.Clamp((int)(v * 256), 0, 255)).ToArray();
        double best = -1;
        int bestT = 0;
        for (int t = 0; t < 256; t++)
        {
            var back = bins.Where(b => b <= t).ToList();
            var fore = bins.Where(b => b > t).ToList();
            if (back.Count == 0 || fore.Count == 0)
            {
                continue;
            }

            double between = (double)back.Count * fore.Count * Math.Pow(back.Average() - fore.Average(), 2);
            if (between > best + 1e-6)
            {
                (best, bestT) = (between, t);
            }
        }

        return (bestT + 1) / 256f;
    }

    private CnnModel WithPreprocessing(string kind)
    {
        var bytes = File.ReadAllBytes(Repository.ModelPath);
        string card = OnnxMetadata.Card(bytes).Replace("\"preprocessing\":\"digit\"", $"\"preprocessing\":\"{kind}\"");
        string path = _dir.Combine($"{kind}.onnx");
        File.WriteAllBytes(path, OnnxMetadata.Replace(bytes, new Dictionary<string, string> { [OnnxMetadata.CardKey] = card }));
        return CnnModel.Load(path);
    }
}
