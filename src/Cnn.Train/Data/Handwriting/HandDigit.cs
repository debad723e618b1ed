namespace Cnn.Train.Data.Handwriting;

/// <summary>The three collections of handwriting from outside MNIST that <c>--dataset handwriting</c> mixes in.</summary>
public enum HandSource
{
    /// <summary>UNIPEN train_r01_v07, section 1a: isolated digits as pen trajectories from 13 sites.</summary>
    Unipen,

    /// <summary>UCI optdigits: 30 writers' digits as the original 32×32 binary bitmaps.</summary>
    Optdigits,

    /// <summary>UCI pendigits: 30 writers' digits resampled to 8 pen points.</summary>
    Pendigits,
}

/// <summary>The ink of one digit: pen strokes or a bitmap.</summary>
public abstract record Ink;

/// <summary>
/// Pen-down strokes only (what the pen drew, not where it moved in the air), each a polyline of (x, y) pairs with y
/// pointing down, in the collection's own units.
/// </summary>
/// <param name="Strokes">x0, y0, x1, y1, … per stroke; a stroke of one point is a dot.</param>
public sealed record StrokeInk(IReadOnlyList<float[]> Strokes) : Ink;

/// <summary>A binary bitmap, row-major, true = ink.</summary>
public sealed record BitmapInk(int Width, int Height, bool[] Pixels) : Ink;

/// <summary>One labelled digit of a handwriting collection.</summary>
/// <param name="Source">The collection.</param>
/// <param name="Label">0–9.</param>
/// <param name="Writer">
/// The writer group the split keeps together: UNIPEN <c>site/WRITER_ID</c> (the site alone where the pen file names no
/// writer), optdigits <c>file/block</c> (the files hold their 30 writers in order), pendigits <c>all</c> (its file is
/// shuffled across writers, so none can be told apart).
/// </param>
/// <param name="Origin">File and line of the record, for messages.</param>
/// <param name="Ink">What was written.</param>
public sealed record HandDigit(HandSource Source, int Label, string Writer, string Origin, Ink Ink);

/// <summary>What reading a collection found: the digits, and the records that were not digits, counted by reason.</summary>
public sealed class ReadReport
{
    /// <summary>Per reason: how many records, and where the first one was.</summary>
    private readonly SortedDictionary<string, (int Count, string First)> _skipped = new(StringComparer.Ordinal);

    /// <summary>Records skipped, by reason (e.g. "label is not one digit").</summary>
    public IReadOnlyDictionary<string, int> Skipped => _skipped.ToDictionary(kv => kv.Key, kv => kv.Value.Count, StringComparer.Ordinal);

    /// <summary>Total of <see cref="Skipped"/>.</summary>
    public int SkippedCount => _skipped.Values.Sum(v => v.Count);

    internal void Skip(string reason, string origin) =>
        _skipped[reason] = _skipped.TryGetValue(reason, out var seen) ? (seen.Count + 1, seen.First) : (1, origin);

    /// <summary>One line per reason: "3 label is not one digit (first at FILE:LINE)".</summary>
    public IEnumerable<string> Describe() =>
        _skipped.Select(kv => $"{kv.Value.Count:N0} {kv.Key} (first at {kv.Value.First})");
}
