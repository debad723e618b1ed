namespace Cnn.Train.Data.Handwriting;

/// <summary>
/// Writes two styles MNIST barely has into copies of training pen digits: a zero gets a straight stroke through it
/// (a slash, Ø, or a bar across, θ), a one a European up-stroke flag at its top (and now and then a foot). The
/// training side holds 74 slashed zeros and 327 flagged ones among 17,000 pen digits; every plain pen zero and one
/// can lend its shape to one more. The originals stay; a copy keeps its original's writer, so the split is untouched.
/// Every choice comes from a generator seeded by the run's seed and the digit's place.
/// </summary>
public static class StyleSynthesis
{
    /// <summary>The most styled copies of one digit.</summary>
    public const int MaxCopies = 8;

    /// <summary>Share of slashed zeros whose stroke is a bar across (θ) rather than a slash (Ø).</summary>
    public const double BarShare = 0.4;

    /// <summary>Share of flagged ones that also get a foot.</summary>
    public const double FootShare = 0.25;

    // The styles' generators run apart from the renderings' (HandRenders.RandomFor's render numbers stay below 17).
    private const int Stream = 128;

    /// <summary>
    /// <paramref name="copies"/> styled copies of each pen zero and one of <paramref name="digits"/> that has no such
    /// style yet (<see cref="HandStyles"/>: UNIPEN's; pendigits' zeros and ones too), in the digits' order.
    /// </summary>
    public static IReadOnlyList<HandDigit> Copies(IReadOnlyList<HandDigit> digits, int copies, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(copies);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(copies, MaxCopies);
        var styled = new List<HandDigit>();
        for (int i = 0; i < digits.Count; i++)
        {
            var digit = digits[i];
            if (digit.Ink is not StrokeInk ink || digit.Label is not (0 or 1) || HandStyles.Of(digit) != HandStyle.None || !Box.Of(ink.Strokes, out var box) || !Plain(digit.Label, box))
            {
                continue;
            }

            for (int c = 0; c < copies; c++)
            {
                var random = HandRenders.RandomFor(seed, i, Stream + c);
                var added = digit.Label == 0 ? Slash(box, random) : Flag(box, random);
                styled.Add(digit with { Origin = $"{digit.Origin} (styled {c + 1})", Ink = new StrokeInk([.. ink.Strokes, .. added]) });
            }
        }

        return styled;
    }

    /// <summary>
    /// A zero wide enough to be one (UNIPEN labels a few single strokes 0), a one near upright and bare: a slanted or
    /// hooked one (pendigits' writers often flag theirs) would become a seven with one more stroke.
    /// </summary>
    private static bool Plain(int label, Box box) => label == 0 ? box.Width >= 0.25f * box.Height : box.Width < 0.2f * box.Height;

    /// <summary>A straight stroke through the zero's middle: a slash leaning right (Ø) or a bar across (θ), past its edges.</summary>
    private static IEnumerable<float[]> Slash(Box box, Random random)
    {
        float cx = box.CentreX + (Uniform(random, -0.08f, 0.08f) * box.Width), cy = box.CentreY + (Uniform(random, -0.08f, 0.08f) * box.Height);
        bool bar = random.NextDouble() < BarShare;
        // Angle from the horizontal, y down: a slash rises to the right at 50–75°, a bar lies within 12° of level.
        float angle = bar ? Uniform(random, -12f, 12f) : -Uniform(random, 50f, 75f);
        float length = bar ? box.Width * Uniform(random, 1.0f, 1.5f) : box.Height * Uniform(random, 0.9f, 1.3f);
        float dx = 0.5f * length * MathF.Cos(angle * MathF.PI / 180), dy = 0.5f * length * MathF.Sin(angle * MathF.PI / 180);
        yield return Line(cx - dx, cy - dy, cx + dx, cy + dy);
    }

    /// <summary>The European one's up-stroke: from below and left of the top, up to it; sometimes a foot across the bottom.</summary>
    private static IEnumerable<float[]> Flag(Box box, Random random)
    {
        // Shorter and steeper than a seven's bar (level, and most of the width), so a flagged one stays a one.
        float length = box.Height * Uniform(random, 0.25f, 0.45f);
        float angle = Uniform(random, 30f, 60f) * MathF.PI / 180;
        yield return Line(box.TopX - (length * MathF.Cos(angle)), box.TopY + (length * MathF.Sin(angle)), box.TopX, box.TopY);
        if (random.NextDouble() < FootShare)
        {
            float half = 0.5f * box.Height * Uniform(random, 0.3f, 0.6f);
            yield return Line(box.BottomX - half, box.BottomY, box.BottomX + half, box.BottomY);
        }
    }

    /// <summary>A straight stroke as the pen samples it: points every tenth of its length.</summary>
    private static float[] Line(float x0, float y0, float x1, float y1)
    {
        const int Steps = 10;
        var points = new float[2 * (Steps + 1)];
        for (int s = 0; s <= Steps; s++)
        {
            // Weighted from both ends, so the last point is (x1, y1) exactly: a flag meets the one's top.
            float t = (float)s / Steps;
            points[2 * s] = ((1 - t) * x0) + (t * x1);
            points[(2 * s) + 1] = ((1 - t) * y0) + (t * y1);
        }

        return points;
    }

    private static float Uniform(Random random, float min, float max) => min + ((max - min) * random.NextSingle());

    /// <summary>The ink's extent, and its topmost and bottommost points (y down).</summary>
    private readonly record struct Box(float MinX, float MinY, float MaxX, float MaxY, float TopX, float TopY, float BottomX, float BottomY)
    {
        public float Width => MaxX - MinX;

        public float Height => MaxY - MinY;

        public float CentreX => (MinX + MaxX) / 2;

        public float CentreY => (MinY + MaxY) / 2;

        /// <summary>False for ink without height (a dot, a level dash): nothing to slash or flag.</summary>
        public static bool Of(IReadOnlyList<float[]> strokes, out Box box)
        {
            float minX = float.MaxValue, maxX = float.MinValue, topX = 0, topY = float.MaxValue, bottomX = 0, bottomY = float.MinValue;
            foreach (var s in strokes)
            {
                for (int i = 0; i + 1 < s.Length; i += 2)
                {
                    (minX, maxX) = (Math.Min(minX, s[i]), Math.Max(maxX, s[i]));
                    (topX, topY) = s[i + 1] < topY ? (s[i], s[i + 1]) : (topX, topY);
                    (bottomX, bottomY) = s[i + 1] > bottomY ? (s[i], s[i + 1]) : (bottomX, bottomY);
                }
            }

            box = new Box(minX, topY, maxX, bottomY, topX, topY, bottomX, bottomY);
            return bottomY > topY;
        }
    }
}
