using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cnn.Tests;

/// <summary>
/// Small files in the three formats of the outside handwriting collections, laid out as data/get-handwriting.sh lays
/// them out: UNIPEN (<c>unipen_1a/data/1a/SITE/*.dat</c> naming pen files under <c>unipen_1a/include/</c>), UCI
/// optdigits' originals and pendigits. Digits are crude strokes; the readers, split and renderer are what is tested.
/// </summary>
public static class SyntheticHandwriting
{
    /// <summary>UNIPEN sites written and writers per site; each writer's pen file holds <see cref="UnipenDigitsPerWriter"/> digits.</summary>
    public const int Sites = 2, WritersPerSite = 5, UnipenDigitsPerWriter = 4;

    /// <summary>Digits in each optdigits file (two per writer) and in pendigits.</summary>
    public const int OptdigitsPerFile = 60, PendigitsCount = 20;

    /// <summary>Total digits written.</summary>
    public const int Total = (Sites * WritersPerSite * UnipenDigitsPerWriter) + (2 * OptdigitsPerFile) + PendigitsCount;

    /// <summary>Writes the three collections under <paramref name="folder"/> and returns it.</summary>
    public static string Write(string folder)
    {
        for (int s = 0; s < Sites; s++)
        {
            for (int w = 0; w < WritersPerSite; w++)
            {
                WriteUnipenWriter(folder, $"site{s}", $"writer{s}{w}", (s * WritersPerSite) + w);
            }
        }

        Directory.CreateDirectory(Path.Combine(folder, "optdigits"));
        File.WriteAllText(Path.Combine(folder, "optdigits", "optdigits-orig.tra"), Optdigits(OptdigitsPerFile, 0));
        File.WriteAllText(Path.Combine(folder, "optdigits", "optdigits-orig.cv"), Optdigits(OptdigitsPerFile, 3));
        Directory.CreateDirectory(Path.Combine(folder, "pendigits"));
        File.WriteAllLines(Path.Combine(folder, "pendigits", "pendigits.tra"), Enumerable.Range(0, PendigitsCount).Select(Pendigit));
        return folder;
    }

    /// <summary>A manifest in data/handwriting-sources.sha256's form of every file under <paramref name="folder"/>.</summary>
    public static string Manifest(string folder) => string.Concat(
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal)
            .Select(p => $"{Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, p))))}  {p}\n"));

    /// <summary>
    /// One writer's pen file: per digit a pen-up move (a component of its own), a pen-down vertical bar, and for odd
    /// labels a second pen-down bar across its top; the segment names the pen-up move too, which is not ink. Empty
    /// pen-up blocks between digits are not components. y points up, as at UNIPEN's sites.
    /// </summary>
    private static void WriteUnipenWriter(string root, string site, string writer, int index)
    {
        var pen = new StringBuilder($".VERSION 1.0\n.WRITER_ID {writer}\n.COMMENT a pen file\n");
        var labels = new StringBuilder($".VERSION 1.0\n.INCLUDE {site}/{site}.doc\n.INCLUDE {site}/data/{writer}.dat\n");
        int component = 0;
        for (int d = 0; d < UnipenDigitsPerWriter; d++)
        {
            int label = ((index * UnipenDigitsPerWriter) + d) % 10;
            int first = component;
            pen.Append(".PEN_UP\n500 500\n510 510\n.PEN_DOWN\n100 300\n100 200\n100 100\n");
            component += 2;
            if (label % 2 == 1)
            {
                pen.Append(".PEN_UP\n.PEN_DOWN\n60 300\n140 300\n");
                component++;
            }

            labels.Append(CultureInfo.InvariantCulture, $".SEGMENT CHARACTER {first}-{component - 1} OK \"{label}\"\n");
        }

        Directory.CreateDirectory(Path.Combine(root, "unipen_1a", "include", site, "data"));
        Directory.CreateDirectory(Path.Combine(root, "unipen_1a", "data", "1a", site));
        File.WriteAllText(Path.Combine(root, "unipen_1a", "include", site, $"{site}.doc"), ".COORD X Y\n.COMMENT the .PEN_DOWN blocks are ink\n");
        File.WriteAllText(Path.Combine(root, "unipen_1a", "include", site, "data", $"{writer}.dat"), pen.ToString());
        File.WriteAllText(Path.Combine(root, "unipen_1a", "data", "1a", site, $"{writer}.dat"), labels.ToString());
    }

    /// <summary>optdigits-orig: a 21-line header, then per digit 32 rows of 0/1 (a bar whose width follows the label) and the label.</summary>
    private static string Optdigits(int count, int offset)
    {
        var text = new StringBuilder("BU handwritten digit database: synthetic\n");
        for (int h = 1; h < 21; h++)
        {
            text.Append(h == 6 ? $"ntot = {count}\n" : $"header{h} = 0\n");
        }

        for (int i = 0; i < count; i++)
        {
            int label = (i + offset) % 10;
            for (int y = 0; y < 32; y++)
            {
                text.Append(string.Concat(Enumerable.Range(0, 32).Select(x => y is >= 4 and < 28 && x >= 12 && x < 14 + label ? '1' : '0'))).Append('\n');
            }

            text.Append(' ').Append(label).Append('\n');
        }

        return text.ToString();
    }

    private static string Pendigit(int i) =>
        string.Join(",", Enumerable.Range(0, 8).SelectMany(p => new[] { 20 + (p * 8), 96 - (p * 12) + (i % 3) }).Select(v => $"{v,3}")) + $",{i % 10}";
}
