using System.Globalization;

namespace Cnn.Train.Data.Handwriting;

/// <summary>
/// Reads UNIPEN's section 1a (isolated digits): <c>data/1a/SITE/…</c> files name a pen file with <c>.INCLUDE</c>
/// (relative to <c>include/</c>) and label digits with <c>.SEGMENT LEVEL COMPONENTS QUALITY "LABEL"</c>. Only the
/// pen-down components of a segment are ink; y points up in all 13 sites and is turned to point down here.
/// A record that is not a digit is counted in the report; a file that does not parse is refused naming its line.
/// </summary>
public static class UnipenReader
{
    /// <summary>Reads every digit under <paramref name="root"/> (the folder holding <c>data/</c> and <c>include/</c>), in file order.</summary>
    public static IReadOnlyList<HandDigit> Read(string root, ReadReport report)
    {
        string data = Path.Combine(root, "data", "1a");
        string include = Path.Combine(root, "include");
        if (!Directory.Exists(data) || !Directory.Exists(include))
        {
            throw new DirectoryNotFoundException($"{root}: expected UNIPEN train_r01_v07's data/1a/SITE/… and include/ folders");
        }

        var pens = new Dictionary<string, PenFile?>(StringComparer.Ordinal);
        var digits = new List<HandDigit>();
        foreach (string file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories)
                     .Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal))
        {
            string site = Path.GetRelativePath(data, file).Split(Path.DirectorySeparatorChar)[0];
            ReadLabels(file, site, include, pens, digits, report);
        }

        return digits;
    }

    private static void ReadLabels(string file, string site, string include, Dictionary<string, PenFile?> pens, List<HandDigit> digits, ReadReport report)
    {
        PenFile? pen = null;
        int number = 0;
        foreach (string line in File.ReadLines(file))
        {
            number++;
            string origin = $"{file}:{number}";
            if (line.StartsWith(".INCLUDE", StringComparison.Ordinal))
            {
                string target = Path.Combine(include, line[".INCLUDE".Length..].Trim());
                if (!pens.TryGetValue(target, out var read))
                {
                    read = File.Exists(target)
                        ? PenFile.Read(target)
                        : throw new InvalidDataException($"{origin}: includes {target}, which is missing; expected UNIPEN's include/ folder whole");
                    pens[target] = read;
                }

                pen = read ?? pen;
            }
            else if (line.StartsWith(".SEGMENT", StringComparison.Ordinal))
            {
                var segment = Segment.Parse(line, origin);
                if (pen == null)
                {
                    throw new InvalidDataException($"{origin}: a .SEGMENT before any .INCLUDE of a pen file");
                }

                if (segment.Label is not [>= '0' and <= '9'])
                {
                    report.Skip("labels that are not one digit", origin);
                    continue;
                }

                var ink = pen.Ink(segment.Parts, origin);
                if (ink.Strokes.Count == 0)
                {
                    report.Skip("segments without pen-down points", origin);
                    continue;
                }

                string writer = pen.Writer is { Length: > 0 } w ? $"{site}/{w}" : site;
                digits.Add(new HandDigit(HandSource.Unipen, segment.Label[0] - '0', writer, origin, ink));
            }
        }
    }

    /// <summary>One part of a segment: components <c>From</c>..<c>To</c>, from point <c>FromPoint</c> of the first to point <c>ToPoint</c> (inclusive) of the last.</summary>
    private readonly record struct Part(int From, int FromPoint, int To, int ToPoint);

    private sealed record Segment(IReadOnlyList<Part> Parts, string Label)
    {
        /// <summary><c>.SEGMENT CHARACTER 292-294 ? "7"</c>; components like 12, 12-14, 3,5 or 12:4-14:7.</summary>
        public static Segment Parse(string line, string origin)
        {
            int quote = line.IndexOf('"');
            int end = quote < 0 ? -1 : line.IndexOf('"', quote + 1);
            var fields = (quote < 0 ? line : line[..quote]).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (end < 0 || fields.Length < 4)
            {
                throw new InvalidDataException($"{origin}: expected .SEGMENT LEVEL COMPONENTS QUALITY \"LABEL\"; found '{Shorten(line)}'");
            }

            var parts = fields[2].Split(',').Select(p => ParsePart(p, origin, line)).ToList();
            return new Segment(parts, line[(quote + 1)..end]);
        }

        private static Part ParsePart(string text, string origin, string line)
        {
            var ends = text.Split('-');
            if (ends.Length > 2)
            {
                throw Bad(origin, line);
            }

            var (from, fromPoint) = Endpoint(ends[0], 0, origin, line);
            var (to, toPoint) = ends.Length == 2 ? Endpoint(ends[1], int.MaxValue, origin, line) : (from, int.MaxValue);
            return to < from ? throw Bad(origin, line) : new Part(from, fromPoint, to, toPoint);
        }

        private static (int Component, int Point) Endpoint(string text, int wholePoint, string origin, string line)
        {
            var pieces = text.Split(':');
            if (pieces.Length > 2 || !int.TryParse(pieces[0], NumberStyles.None, CultureInfo.InvariantCulture, out int component))
            {
                throw Bad(origin, line);
            }

            if (pieces.Length == 1)
            {
                return (component, wholePoint);
            }

            return int.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out int point) ? (component, point) : throw Bad(origin, line);
        }

        private static InvalidDataException Bad(string origin, string line) =>
            new($"{origin}: component list of '{Shorten(line)}' does not parse; expected forms like 12, 12-14, 3,5 or 12:4-14:7");
    }

    internal static string Shorten(string line) => line.Length <= 80 ? line : line[..77] + "...";

    /// <summary>A pen file: its components in file order (pen-down blocks, and pen-up blocks that carry points) and its writer.</summary>
    private sealed class PenFile(string path, List<(bool Down, List<float> Points)> components, string? writer)
    {
        public string? Writer { get; } = writer;

        /// <summary>The pen file at <paramref name="path"/>; null when it holds no pen components (a .doc or .lex file).</summary>
        public static PenFile? Read(string path)
        {
            var components = new List<(bool, List<float>)>();
            string? writer = null;
            List<float>? current = null;
            bool down = false;
            int number = 0;
            foreach (string line in File.ReadLines(path))
            {
                number++;
                if (line.StartsWith('.'))
                {
                    Close(components, ref current, down);
                    string keyword = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0];
                    if (keyword is ".PEN_DOWN" or ".PEN_UP")
                    {
                        (current, down) = ([], keyword == ".PEN_DOWN");
                    }
                    else if (keyword == ".WRITER_ID")
                    {
                        writer ??= line[keyword.Length..].Trim();
                    }
                }
                else if (current != null && !string.IsNullOrWhiteSpace(line))
                {
                    AddPoint(current, line, path, number);
                }
            }

            Close(components, ref current, down);
            return components.Count == 0 ? null : new PenFile(path, components, writer);
        }

        private static void Close(List<(bool, List<float>)> components, ref List<float>? current, bool down)
        {
            // A pen-up block without points is not a component: the numbering counts only blocks that carry points.
            if (current != null && (down || current.Count > 0))
            {
                components.Add((down, current));
            }

            current = null;
        }

        private static void AddPoint(List<float> points, string line, string path, int number)
        {
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2
                || !float.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float x)
                || !float.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float y)
                || !float.IsFinite(x) || !float.IsFinite(y))
            {
                throw new InvalidDataException($"{path}:{number}: expected 'x y' pen coordinates in a .PEN_DOWN or .PEN_UP block; found '{Shorten(line)}'");
            }

            // UNIPEN's y points up at every site of section 1a; images count rows down.
            points.Add(x);
            points.Add(-y);
        }

        /// <summary>The pen-down strokes of <paramref name="parts"/>, each clipped to its point range.</summary>
        public StrokeInk Ink(IReadOnlyList<Part> parts, string origin)
        {
            var strokes = new List<float[]>();
            foreach (var part in parts)
            {
                if (part.To >= components.Count)
                {
                    throw new InvalidDataException(
                        $"{origin}: names component {part.To} of {path}, which has {components.Count} (0..{components.Count - 1}); is that file truncated?");
                }

                for (int c = part.From; c <= part.To; c++)
                {
                    var (down, points) = components[c];
                    int first = c == part.From ? part.FromPoint : 0;
                    int last = c == part.To ? Math.Min(part.ToPoint, (points.Count / 2) - 1) : (points.Count / 2) - 1;
                    if (down && last >= first)
                    {
                        strokes.Add(points.GetRange(first * 2, (last - first + 1) * 2).ToArray());
                    }
                }
            }

            return new StrokeInk(strokes);
        }
    }
}
