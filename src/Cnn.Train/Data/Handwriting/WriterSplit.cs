using System.Security.Cryptography;
using System.Text;

namespace Cnn.Train.Data.Handwriting;

/// <summary>Where a digit of the outside collections goes: training, the selection split, or neither.</summary>
public enum HandSplit
{
    /// <summary>Trains models.</summary>
    Training,

    /// <summary>Chooses models (with MNIST's validation split); never trains.</summary>
    Selection,

    /// <summary>
    /// Neither: optdigits' writer next to the selection's, left out because its edges in the file are estimated
    /// (the file's 30ths), so a writer straddling the boundary cannot land on both sides.
    /// </summary>
    Guard,
}

/// <summary>
/// The writer-disjoint selection split, fixed for every run so candidates are chosen on the same digits: no writer
/// is on both sides. UNIPEN: whole writer groups (site/WRITER_ID, or the site where a pen file names no writer)
/// ordered by the SHA-256 of their name, taken into selection until it holds <see cref="UnipenSelectionShare"/> of
/// UNIPEN's digits. optdigits: writers 24–29 of both files (the last sixth) select, writer 23 is the guard.
/// pendigits: training only (its writers cannot be told apart).
/// </summary>
public static class WriterSplit
{
    /// <summary>Share of UNIPEN's digits whose writers select.</summary>
    public const double UnipenSelectionShare = 0.2;

    /// <summary>optdigits writers from this number on select; the one before is the guard.</summary>
    public const int FirstSelectingOptdigitsWriter = 24;

    /// <summary>The split of each digit, in order.</summary>
    public static HandSplit[] Assign(IReadOnlyList<HandDigit> digits)
    {
        var unipenSelection = UnipenSelection(digits);
        var split = new HandSplit[digits.Count];
        for (int i = 0; i < digits.Count; i++)
        {
            var d = digits[i];
            split[i] = d.Source switch
            {
                HandSource.Unipen => unipenSelection.Contains(d.Writer) ? HandSplit.Selection : HandSplit.Training,
                HandSource.Optdigits => OptdigitsSplit(d.Writer),
                _ => HandSplit.Training,
            };
        }

        return split;
    }

    private static HandSplit OptdigitsSplit(string writer)
    {
        int number = int.Parse(writer[(writer.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return number >= FirstSelectingOptdigitsWriter ? HandSplit.Selection
            : number == FirstSelectingOptdigitsWriter - 1 ? HandSplit.Guard
            : HandSplit.Training;
    }

    private static HashSet<string> UnipenSelection(IReadOnlyList<HandDigit> digits)
    {
        var groups = digits.Where(d => d.Source == HandSource.Unipen).GroupBy(d => d.Writer)
            .Select(g => (Writer: g.Key, Count: g.Count(), Order: Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(g.Key)))))
            .OrderBy(g => g.Order, StringComparer.Ordinal).ToList();
        int total = groups.Sum(g => g.Count);
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        int taken = 0;
        foreach (var group in groups)
        {
            if (taken >= total * UnipenSelectionShare)
            {
                break;
            }

            chosen.Add(group.Writer);
            taken += group.Count;
        }

        return chosen;
    }
}

/// <summary>The styles MNIST barely has, which digit models trained on it misread; told from the pen strokes.</summary>
[Flags]
public enum HandStyle
{
    /// <summary>None of these.</summary>
    None = 0,

    /// <summary>A zero with a straight stroke of its own through it (Ø), at least half its height long.</summary>
    SlashedZero = 1,

    /// <summary>A one at least 35 % as wide as it is tall: the European one's long up-stroke (flag), or a base.</summary>
    FlaggedOne = 2,

    /// <summary>A five whose strokes are two or more (the top bar drawn apart).</summary>
    TwoStrokeFive = 4,
}

/// <summary>Finds <see cref="HandStyle"/>s in pen trajectories (UNIPEN's; pendigits keeps no pen lifts, bitmaps no strokes).</summary>
public static class HandStyles
{
    /// <summary>The style of <paramref name="digit"/>.</summary>
    public static HandStyle Of(HandDigit digit)
    {
        if (digit.Source != HandSource.Unipen || digit.Ink is not StrokeInk ink)
        {
            return HandStyle.None;
        }

        var (width, height) = Extent(ink.Strokes);
        return digit.Label switch
        {
            0 when ink.Strokes.Count >= 2 && HasSlash(ink.Strokes, height) => HandStyle.SlashedZero,
            1 when height > 0 && width >= 0.35 * height => HandStyle.FlaggedOne,
            5 when ink.Strokes.Count(s => Length(s) >= 0.1 * height) >= 2 => HandStyle.TwoStrokeFive,
            _ => HandStyle.None,
        };
    }

    private static bool HasSlash(IReadOnlyList<float[]> strokes, float height)
    {
        int longest = Enumerable.Range(0, strokes.Count).MaxBy(i => Length(strokes[i]));
        return strokes.Where((_, i) => i != longest).Any(s =>
        {
            float chord = MathF.Sqrt(Sq(s[^2] - s[0]) + Sq(s[^1] - s[1]));
            return chord >= 0.5 * height && chord >= 0.9 * Length(s);
        });
    }

    private static float Length(float[] s)
    {
        float total = 0;
        for (int i = 2; i < s.Length; i += 2)
        {
            total += MathF.Sqrt(Sq(s[i] - s[i - 2]) + Sq(s[i + 1] - s[i - 1]));
        }

        return total;
    }

    private static float Sq(float v) => v * v;

    private static (float Width, float Height) Extent(IReadOnlyList<float[]> strokes)
    {
        var xs = strokes.SelectMany(s => s.Where((_, i) => i % 2 == 0)).ToList();
        var ys = strokes.SelectMany(s => s.Where((_, i) => i % 2 == 1)).ToList();
        return (xs.Max() - xs.Min(), ys.Max() - ys.Min());
    }
}
