using Cnn.Contracts;
using Cnn.Tests;

namespace Cnn.Inference.Tests;

public sealed class DeskewTests : IDisposable
{
    private const int Side = 28;
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 2-px wide stroke from (x0, y0) to (x1, y1), one sample per row.</summary>
    private static float[] Stroke(double x0, int y0, double x1, int y1)
    {
        var frame = new float[Side * Side];
        for (int y = y0; y <= y1; y++)
        {
            int x = (int)Math.Round(x0 + ((x1 - x0) * (y - y0) / (y1 - y0)));
            frame[(y * Side) + x] = frame[(y * Side) + x + 1] = 1;
        }

        return frame;
    }

    private static (double X, double Y) CentreOfMass(float[] frame)
    {
        double mass = 0, sx = 0, sy = 0;
        for (int i = 0; i < frame.Length; i++)
        {
            mass += frame[i];
            sx += frame[i] * (i % Side);
            sy += frame[i] * (i / Side);
        }

        return (sx / mass, sy / mass);
    }

    [Fact]
    public void A_slanted_stroke_stands_up_straight_about_its_centre()
    {
        // A forward-leaning stroke: 8 px to the right over 16 rows up, a skew of −0.5 (x falls as y grows).
        var slanted = Stroke(18, 6, 10, 22);
        var (skew, _) = MomentDeskew.Measure(slanted, Side, Side);
        Assert.InRange(skew, -0.55, -0.45);

        var straight = new float[slanted.Length];
        MomentDeskew.Apply(slanted, straight, Side, Side);
        Assert.InRange(Math.Abs(MomentDeskew.Measure(straight, Side, Side).Skew), 0, 0.03);
        var (before, after) = (CentreOfMass(slanted), CentreOfMass(straight));
        Assert.Equal(before.X, after.X, 0.3);
        Assert.Equal(before.Y, after.Y, 0.3);
        Assert.Equal(slanted.Sum(), straight.Sum(), 0.5);
    }

    [Fact]
    public void Empty_frames_stay_empty_and_flat_blobs_are_not_sheared_past_45_degrees()
    {
        var empty = new float[Side * Side];
        var result = new float[Side * Side];
        MomentDeskew.Apply(empty, result, Side, Side);
        Assert.All(result, v => Assert.Equal(0f, v));

        // A dash one row high has no vertical extent to measure a slant on.
        var dash = new float[Side * Side];
        Array.Fill(dash, 1f, (14 * Side) + 6, 16);
        Assert.Equal(0, MomentDeskew.Measure(dash, Side, Side).Skew);

        // A nearly flat stroke (16 px across, 1 row down) would measure a skew far past 1; it is capped.
        var flat = Stroke(4, 13, 20, 14);
        Assert.Equal(MomentDeskew.MaxSkew, MomentDeskew.Measure(flat, Side, Side).Skew);
    }

    [Fact]
    public void Frames_of_the_wrong_size_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => MomentDeskew.Apply(new float[10], new float[10], Side, Side));
        Assert.Equal("a 28×28 frame holds 784 values; got 10", e.Message);
        var d = Assert.Throws<ArgumentException>(() => MomentDeskew.Apply(new float[784], new float[783], Side, Side));
        Assert.StartsWith("destination holds 783 values; expected 784", d.Message);
    }

    [Fact]
    public void A_card_with_deskew_makes_prepare_run_the_same_moment_deskew()
    {
        var bytes = File.ReadAllBytes(Repository.ModelPath);
        string card = OnnxMetadata.Card(bytes);
        Assert.Contains("\"deskew\":false", card, StringComparison.Ordinal);
        string deskewPath = _dir.Combine("deskew.onnx");
        File.WriteAllBytes(deskewPath, OnnxMetadata.Replace(bytes, new Dictionary<string, string> { [OnnxMetadata.CardKey] = card.Replace("\"deskew\":false", "\"deskew\":true") }));
        using var deskewing = CnnModel.Load(deskewPath);
        using var plain = CnnModel.Load(Repository.ModelPath);

        int changed = 0;
        for (int i = 0; i < 5; i++)
        {
            var drawing = Digits.Drawing(i, 200, 200, 30, 30, 5);
            var unskewed = plain.Images.Prepare(drawing, "drawing").Pixels;
            var expected = new float[unskewed.Length];
            MomentDeskew.Apply(unskewed, expected, Side, Side);
            Assert.Equal(expected, deskewing.Images.Prepare(drawing, "drawing").Pixels);
            changed += expected.SequenceEqual(unskewed) ? 0 : 1;
        }

        Assert.True(changed >= 3, $"deskewing changed {changed} of 5 drawings");
    }
}
