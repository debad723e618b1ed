using Cnn.Tests;
using Cnn.Train.Data;
using Cnn.Train.Data.Handwriting;
using Cnn.Train.Training;
using static TorchSharp.torch;

namespace Cnn.Train.Tests;

/// <summary>Styled copies of pen zeros and ones: what is added, to which digits, and how the mix takes them.</summary>
public sealed class StyleSynthesisTests
{
    /// <summary>A round zero of 24 points, 100 units across, y down.</summary>
    private static readonly StrokeInk Zero = new([[.. Enumerable.Range(0, 25).SelectMany(k => new[] { 50 + (50 * MathF.Cos(k * MathF.PI / 12)), 50 + (50 * MathF.Sin(k * MathF.PI / 12)) })]]);

    /// <summary>An upright one, 100 units tall, its top at (40, 0).</summary>
    private static readonly StrokeInk One = new([[40f, 0f, 41f, 50f, 42f, 100f]]);

    private static HandDigit Digit(int label, Ink ink, HandSource source = HandSource.Unipen) => new(source, label, "site/w1", $"file.dat:{label}", ink);

    private static float[] Added(HandDigit copy, StrokeInk original) => Assert.Single(((StrokeInk)copy.Ink).Strokes.Skip(original.Strokes.Count));

    [Fact]
    public void A_zero_gets_a_straight_stroke_through_its_middle_and_is_then_a_slashed_zero()
    {
        var copies = StyleSynthesis.Copies([Digit(0, Zero)], copies: 8, seed: 1);

        Assert.Equal(8, copies.Count);
        foreach (var copy in copies)
        {
            Assert.Equal(0, copy.Label);
            Assert.Equal("site/w1", copy.Writer);
            Assert.Same(Zero.Strokes[0], ((StrokeInk)copy.Ink).Strokes[0]);
            var slash = Added(copy, Zero);
            float midX = (slash[0] + slash[^2]) / 2, midY = (slash[1] + slash[^1]) / 2;
            Assert.InRange(midX, 40, 60);
            Assert.InRange(midY, 40, 60);
            // Past the zero's edge on both sides: a slash (longer than it is wide) or a bar (wider than it is tall).
            float dx = Math.Abs(slash[^2] - slash[0]), dy = Math.Abs(slash[^1] - slash[1]);
            Assert.True(dy >= 0.9f * 100 * MathF.Sin(50 * MathF.PI / 180) || dx >= 100 * MathF.Cos(12 * MathF.PI / 180), $"{dx} across, {dy} up");
            Assert.Equal(HandStyle.SlashedZero, HandStyles.Of(copy));
        }

        // Both kinds among eight copies, and a slash leans right (it rises as x grows; y points down).
        var strokes = copies.Select(c => Added(c, Zero)).ToList();
        Assert.Contains(strokes, s => Math.Abs(s[^1] - s[1]) > Math.Abs(s[^2] - s[0]));
        Assert.Contains(strokes, s => Math.Abs(s[^1] - s[1]) < Math.Abs(s[^2] - s[0]));
        Assert.All(strokes.Where(s => Math.Abs(s[^1] - s[1]) > Math.Abs(s[^2] - s[0])), s => Assert.True((s[^2] - s[0]) * (s[^1] - s[1]) < 0, "a slash rises to the right"));
    }

    [Fact]
    public void A_one_gets_an_up_stroke_from_below_left_to_its_top_steeper_and_shorter_than_a_sevens_bar()
    {
        var copies = StyleSynthesis.Copies([Digit(1, One)], copies: 8, seed: 1);

        Assert.Equal(8, copies.Count);
        foreach (var copy in copies)
        {
            var flag = ((StrokeInk)copy.Ink).Strokes[One.Strokes.Count];
            Assert.Equal((40f, 0f), (flag[^2], flag[^1]));
            float dx = flag[^2] - flag[0], dy = flag[1] - flag[^1];
            Assert.True(dx > 0 && dy > 0, $"starts below and left of the top: {dx}, {dy}");
            double angle = Math.Atan2(dy, dx) * 180 / Math.PI, length = Math.Sqrt((dx * dx) + (dy * dy));
            Assert.InRange(angle, 30 - 1e-3, 60 + 1e-3);
            Assert.InRange(length, 25 - 1e-3, 45 + 1e-3);
        }

        // Now and then a foot: a level stroke across the bottom.
        Assert.Contains(copies, c => ((StrokeInk)c.Ink).Strokes.Count == One.Strokes.Count + 2);
    }

    [Fact]
    public void Only_plain_pen_zeros_and_ones_are_copied()
    {
        var slashed = new StrokeInk([.. Zero.Strokes, [20f, 100f, 80f, 0f]]);
        var slanted = new StrokeInk([[0f, 100f, 25f, 0f]]);
        var stroke = new StrokeInk([[50f, 0f, 52f, 100f]]);
        var digits = new[]
        {
            Digit(7, One), Digit(0, slashed), Digit(1, slanted), Digit(0, stroke),
            Digit(0, new BitmapInk(2, 2, [true, true, true, true]), HandSource.Optdigits),
            Digit(0, Zero, HandSource.Pendigits), Digit(1, One),
        };

        var copies = StyleSynthesis.Copies(digits, copies: 2, seed: 3);

        Assert.Equal([HandSource.Pendigits, HandSource.Pendigits, HandSource.Unipen, HandSource.Unipen], copies.Select(c => c.Source));
        Assert.Equal([0, 0, 1, 1], copies.Select(c => c.Label));
        Assert.Empty(StyleSynthesis.Copies(digits, copies: 0, seed: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StyleSynthesis.Copies(digits, copies: StyleSynthesis.MaxCopies + 1, seed: 3));
    }

    [Fact]
    public void Copies_repeat_for_a_seed_and_differ_with_another()
    {
        HandDigit[] digits = [Digit(0, Zero), Digit(1, One)];
        static float[][] Strokes(IEnumerable<HandDigit> copies) => [.. copies.SelectMany(c => ((StrokeInk)c.Ink).Strokes)];

        var first = Strokes(StyleSynthesis.Copies(digits, 2, seed: 4));
        Assert.Equal(first, Strokes(StyleSynthesis.Copies(digits, 2, seed: 4)));
        Assert.NotEqual(first, Strokes(StyleSynthesis.Copies(digits, 2, seed: 5)));
    }

    [Fact]
    public void The_mix_appends_the_copies_renderings_after_the_unchanged_ones_and_other_data_sets_refuse_them()
    {
        using var dir = new TempFolder();
        string mnist = SyntheticMnist.Write(dir.Combine("mnist"), trainCount: 60, testCount: 10);
        var sources = HandwritingSources.Read(SyntheticHandwriting.Write(dir.Combine("sources")));
        var options = new TrainOptions { Threads = 1, Seed = 5, ValidationFraction = 0.2, SourceRenders = 2 };
        TrainingData Mix(TrainOptions o) => HandwritingMix.Add(Datasets.Mnist.Load(MnistFiles.InFolder(mnist), o), sources, o, Datasets.Handwriting.Name);
        var split = WriterSplit.Assign(sources.Digits);
        int eligible = StyleSynthesis.Copies([.. sources.Digits.Where((_, i) => split[i] == HandSplit.Training)], 1, 5).Count;
        Assert.True(eligible > 0, "the generated pendigits hold zeros wide enough to slash");

        using var plain = Mix(options);
        using var styled = Mix(options with { StyleCopies = 3 });

        Assert.Equal(plain.Train.Count + (2 * 3 * eligible), styled.Train.Count);
        Assert.True(plain.Train.Images.eq(styled.Train.Images.narrow(0, 0, plain.Train.Count)).all().item<bool>());
        Assert.True(plain.Validation.Images.eq(styled.Validation.Images).all().item<bool>());
        var e = Assert.Throws<ArgumentException>(() => Datasets.Mnist.Check(new TrainOptions { StyleCopies = 1 }, n => n));
        Assert.Equal("StyleCopies is 1 for mnist; it styles the outside collections' pen digits in --dataset handwriting only", e.Message);
    }
}
