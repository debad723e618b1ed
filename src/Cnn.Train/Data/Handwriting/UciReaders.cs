using System.Globalization;

namespace Cnn.Train.Data.Handwriting;

/// <summary>
/// UCI's optdigits originals (<c>optdigits-orig.tra</c>, <c>.cv</c>): a header, then per digit 32 lines of 32
/// <c>0</c>/<c>1</c> characters and a line with the label. The 30 writers follow each other through both files in the
/// same order (a digit's nearest neighbour lies within 1/30 of the file 37 % of the time against 7 % by chance, and the
/// .cv file's digits find theirs at the same relative place in .tra: docs/handwriting.md), so the writer is told
/// apart by the 30ths of the file.
/// </summary>
public static class OptdigitsReader
{
    /// <summary>Writers in each file.</summary>
    public const int Writers = 30;

    private const int Side = 32;

    /// <summary>Reads every digit of one file; anything that is not the format is refused naming the line.</summary>
    public static IReadOnlyList<HandDigit> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        int first = Array.FindIndex(lines, IsRow);
        if (first < 0)
        {
            throw new InvalidDataException($"{path}: no 32-character row of 0 and 1; expected UCI's optdigits-orig format");
        }

        int? announced = Announced(lines.AsSpan(0, first));
        var records = new List<(int Label, bool[] Pixels, int Line)>();
        int i = first;
        while (i < lines.Length && !(string.IsNullOrWhiteSpace(lines[i]) && lines.Skip(i).All(string.IsNullOrWhiteSpace)))
        {
            var pixels = new bool[Side * Side];
            for (int row = 0; row < Side; row++, i++)
            {
                if (i >= lines.Length || !IsRow(lines[i]))
                {
                    throw new InvalidDataException(
                        $"{path}:{i + 1}: expected row {row + 1} of 32 of the digit starting at line {i + 1 - row}, 32 characters of 0 and 1; found {(i >= lines.Length ? "the end of the file" : $"'{UnipenReader.Shorten(lines[i])}'")}");
                }

                for (int x = 0; x < Side; x++)
                {
                    pixels[(row * Side) + x] = lines[i][x] == '1';
                }
            }

            if (i >= lines.Length || !int.TryParse(lines[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int label) || label > 9)
            {
                throw new InvalidDataException($"{path}:{i + 1}: expected the digit's label, 0–9; found {(i >= lines.Length ? "the end of the file" : $"'{UnipenReader.Shorten(lines[i])}'")}");
            }

            records.Add((label, pixels, i + 1));
            i++;
        }

        if (announced is int n && n != records.Count)
        {
            throw new InvalidDataException($"{path}: holds {records.Count} digits; its header says ntot = {n} (truncated or edited?)");
        }

        string name = Path.GetFileName(path);
        return records.Select((r, index) => new HandDigit(
            HandSource.Optdigits, r.Label, $"optdigits/{WriterOf(index, records.Count)}", $"{path}:{r.Line}", new BitmapInk(Side, Side, r.Pixels))).ToList();
    }

    /// <summary>The writer (0–29) of the digit at <paramref name="index"/> of <paramref name="count"/>: the files hold their writers in order.</summary>
    public static int WriterOf(int index, int count) => (int)((long)index * Writers / count);

    private static bool IsRow(string line) => line.Length == Side && line.All(c => c is '0' or '1');

    private static int? Announced(ReadOnlySpan<string> header)
    {
        foreach (string line in header)
        {
            var parts = line.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts is ["ntot", var value] && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                return n;
            }
        }

        return null;
    }
}

/// <summary>
/// UCI's pendigits (<c>pendigits.tra</c>): per line 16 integers — 8 (x, y) points along the pen's path, scaled to
/// 0–100, y up — and the label. Its lines are shuffled across its 30 writers (a digit's nearest neighbour lies within
/// 1/30 of the file 7.5 % of the time, 6.6 % by chance: docs/handwriting.md), so no writer can be told apart: the
/// whole file is one group, which the split gives to training.
/// </summary>
public static class PendigitsReader
{
    private const int Points = 8;

    /// <summary>Reads every digit; a line that is not the format is refused naming it.</summary>
    public static IReadOnlyList<HandDigit> Read(string path)
    {
        var digits = new List<HandDigit>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            var values = new int[fields.Length];
            bool ok = fields.Length == (2 * Points) + 1;
            for (int f = 0; ok && f < fields.Length; f++)
            {
                ok = int.TryParse(fields[f], NumberStyles.None, CultureInfo.InvariantCulture, out values[f]) && values[f] <= (f < 2 * Points ? 100 : 9);
            }

            if (!ok)
            {
                throw new InvalidDataException(
                    $"{path}:{number}: expected 16 coordinates 0–100 and a label 0–9, separated by commas; found '{UnipenReader.Shorten(line)}'");
            }

            var stroke = new float[2 * Points];
            for (int p = 0; p < Points; p++)
            {
                stroke[2 * p] = values[2 * p];
                stroke[(2 * p) + 1] = 100 - values[(2 * p) + 1];
            }

            digits.Add(new HandDigit(HandSource.Pendigits, values[2 * Points], "pendigits", $"{path}:{number}", new StrokeInk([stroke])));
        }

        return digits;
    }
}
