using Cnn.Tests;
using Cnn.Train.Data.Handwriting;

namespace Cnn.Train.Tests;

/// <summary>The outside collections' readers, split and styles on small generated files in each format.</summary>
public sealed class HandwritingSourcesTests : IDisposable
{
    private readonly TempFolder _dir = new();
    private readonly string _folder;

    public HandwritingSourcesTests()
    {
        _folder = SyntheticHandwriting.Write(_dir.Combine("sources"));
    }

    public void Dispose() => _dir.Dispose();

    private string Pen(int site, int writer) => Path.Combine(_folder, "unipen_1a", "include", $"site{site}", "data", $"writer{site}{writer}.dat");

    private string Labels(int site, int writer) => Path.Combine(_folder, "unipen_1a", "data", "1a", $"site{site}", $"writer{site}{writer}.dat");

    [Fact]
    public void Every_digit_of_the_three_formats_is_read_with_its_label_writer_and_origin()
    {
        var sources = HandwritingSources.Read(_folder);
        Assert.Equal(SyntheticHandwriting.Total, sources.Digits.Count);
        Assert.Equal(0, sources.Skipped.SkippedCount);
        var unipen = sources.Digits.Where(d => d.Source == HandSource.Unipen).ToList();
        Assert.Equal(SyntheticHandwriting.Sites * SyntheticHandwriting.WritersPerSite * SyntheticHandwriting.UnipenDigitsPerWriter, unipen.Count);
        Assert.Equal("site0/writer00", unipen[0].Writer);
        Assert.Equal($"{Labels(0, 0)}:4", unipen[0].Origin);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i % 10), sources.Digits.Where(d => d.Source == HandSource.Optdigits).Take(10).Select(d => d.Label));
        Assert.Equal("optdigits/0", sources.Digits.First(d => d.Source == HandSource.Optdigits).Writer);
        Assert.Equal("optdigits/29", sources.Digits.Last(d => d.Source == HandSource.Optdigits).Writer);
        Assert.All(sources.Digits.Where(d => d.Source == HandSource.Pendigits), d => Assert.Equal("pendigits", d.Writer));
    }

    [Fact]
    public void Only_pen_down_components_are_ink_and_y_is_turned_to_point_down()
    {
        var digits = HandwritingSources.Read(_folder).Digits.Where(d => d.Source == HandSource.Unipen).ToList();
        // Label 0: a pen-up move (500, 500 → 510, 510) and one pen-down bar from y 300 (top, y up) to 100.
        var zero = Assert.IsType<StrokeInk>(digits[0].Ink);
        Assert.Equal([100f, -300f, 100f, -200f, 100f, -100f], Assert.Single(zero.Strokes));
        // Label 1 has a second pen-down bar; the empty .PEN_UP before it is no component, so the segment's range ends on it.
        var one = Assert.IsType<StrokeInk>(digits[1].Ink);
        Assert.Equal(1, digits[1].Label);
        Assert.Equal(2, one.Strokes.Count);
        Assert.Equal([60f, -300f, 140f, -300f], one.Strokes[1]);
    }

    [Fact]
    public void Point_ranges_clip_the_first_and_last_components()
    {
        File.AppendAllText(Labels(0, 0), ".SEGMENT CHARACTER 1:1-1:2 OK \"7\"\n");
        var seven = HandwritingSources.Read(_folder).Digits.Single(d => d.Origin == $"{Labels(0, 0)}:8");
        Assert.Equal([100f, -200f, 100f, -100f], Assert.Single(Assert.IsType<StrokeInk>(seven.Ink).Strokes));
    }

    [Fact]
    public void Records_that_are_not_digits_are_counted_and_reported_not_dropped_silently()
    {
        File.AppendAllText(Labels(1, 2), ".SEGMENT CHARACTER 0-1 ? \"?\"\n.SEGMENT CHARACTER 0 ? \"\"\n.SEGMENT CHARACTER 0 OK \"3\"\n");
        var sources = HandwritingSources.Read(_folder);
        Assert.Equal(SyntheticHandwriting.Total, sources.Digits.Count);
        Assert.Equal(new Dictionary<string, int> { ["labels that are not one digit"] = 2, ["segments without pen-down points"] = 1 }, sources.Skipped.Skipped);
        Assert.Equal([$"2 labels that are not one digit (first at {Labels(1, 2)}:8)", $"1 segments without pen-down points (first at {Labels(1, 2)}:10)"], sources.Skipped.Describe());
    }

    [Fact]
    public void A_truncated_pen_file_is_refused_naming_the_segment_and_the_file()
    {
        var lines = File.ReadAllLines(Pen(1, 4));
        File.WriteAllLines(Pen(1, 4), lines.Take(lines.Length - 10));
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.StartsWith($"{Labels(1, 4)}:", e.Message);
        Assert.Contains($"of {Pen(1, 4)}, which has", e.Message);
        Assert.EndsWith("is that file truncated?", e.Message);
    }

    [Fact]
    public void A_line_cut_in_half_is_refused_naming_the_file_and_line()
    {
        var lines = File.ReadAllLines(Pen(0, 1)).ToList();
        int bar = lines.IndexOf("100 200");
        lines[bar] = "100";
        File.WriteAllLines(Pen(0, 1), lines);
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{Pen(0, 1)}:{bar + 1}: expected 'x y' pen coordinates in a .PEN_DOWN or .PEN_UP block; found '100'", e.Message);
    }

    [Theory]
    [InlineData(".SEGMENT CHARACTER 3-x OK \"4\"", "component list of '.SEGMENT CHARACTER 3-x OK \"4\"' does not parse; expected forms like 12, 12-14, 3,5 or 12:4-14:7")]
    [InlineData(".SEGMENT CHARACTER 5", "expected .SEGMENT LEVEL COMPONENTS QUALITY \"LABEL\"; found '.SEGMENT CHARACTER 5'")]
    public void An_edited_segment_is_refused_naming_its_line(string segment, string expected)
    {
        File.AppendAllText(Labels(0, 3), segment + "\n");
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{Labels(0, 3)}:8: {expected}", e.Message);
    }

    [Fact]
    public void A_missing_include_is_refused()
    {
        File.Delete(Pen(1, 0));
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{Labels(1, 0)}:3: includes {Pen(1, 0)}, which is missing; expected UNIPEN's include/ folder whole", e.Message);
    }

    [Fact]
    public void A_truncated_optdigits_file_is_refused_naming_the_line()
    {
        string path = Path.Combine(_folder, "optdigits", "optdigits-orig.cv");
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, lines.Take(lines.Length - 5));
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{path}:{lines.Length - 4}: expected row 29 of 32 of the digit starting at line {lines.Length - 32}, 32 characters of 0 and 1; found the end of the file", e.Message);
    }

    [Fact]
    public void An_optdigits_file_shorter_than_its_header_says_is_refused()
    {
        string path = Path.Combine(_folder, "optdigits", "optdigits-orig.tra");
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, lines.Take(lines.Length - 33));
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{path}: holds 59 digits; its header says ntot = 60 (truncated or edited?)", e.Message);
    }

    [Theory]
    [InlineData(" 47,100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 98")]
    [InlineData(" 47,100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40,101, 8")]
    [InlineData(" 47,100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 98, x")]
    public void An_edited_pendigits_line_is_refused_naming_it(string line)
    {
        string path = Path.Combine(_folder, "pendigits", "pendigits.tra");
        var lines = File.ReadAllLines(path);
        lines[3] = line;
        File.WriteAllLines(path, lines);
        var e = Assert.Throws<InvalidDataException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{path}:4: expected 16 coordinates 0–100 and a label 0–9, separated by commas; found '{line}'", e.Message);
    }

    [Fact]
    public void A_missing_collection_is_refused_naming_it_and_the_command_that_fetches_it()
    {
        Directory.Delete(Path.Combine(_folder, "pendigits"), recursive: true);
        var e = Assert.Throws<FileNotFoundException>(() => HandwritingSources.Read(_folder));
        Assert.Equal($"{_folder}: missing pendigits/pendigits.tra; `bash data/get-handwriting.sh` fetches UNIPEN and UCI's optdigits and pendigits there (or `--from DIR` copies a local copy)", e.Message);
    }

    [Fact]
    public void No_writer_is_on_both_sides_of_the_split_and_pendigits_only_trains()
    {
        var digits = HandwritingSources.Read(_folder).Digits;
        var split = WriterSplit.Assign(digits);
        var sides = digits.Select((d, i) => (d.Writer, Split: split[i])).Where(x => x.Split != HandSplit.Guard).GroupBy(x => x.Writer);
        Assert.All(sides, g => Assert.Single(g.Select(x => x.Split).Distinct()));
        Assert.Contains(HandSplit.Selection, digits.Select((d, i) => d.Source == HandSource.Unipen ? split[i] : HandSplit.Training));
        Assert.All(digits.Select((d, i) => (d, split[i])).Where(x => x.d.Source == HandSource.Pendigits), x => Assert.Equal(HandSplit.Training, x.Item2));
        var optdigits = digits.Select((d, i) => (d, split[i])).Where(x => x.d.Source == HandSource.Optdigits).ToList();
        Assert.All(optdigits, x => Assert.Equal(
            int.Parse(x.d.Writer.Split('/')[1]) switch { >= 24 => HandSplit.Selection, 23 => HandSplit.Guard, _ => HandSplit.Training }, x.Item2));
        // The same writer's digits in .tra and .cv (the k-th thirtieth of each) go to the same side.
        Assert.Equal(2 * 2 * 6, optdigits.Count(x => x.Item2 == HandSplit.Selection));
    }

    [Fact]
    public void Unipen_selection_takes_whole_writers_until_a_fifth_of_the_digits()
    {
        var digits = HandwritingSources.Read(_folder).Digits.Where(d => d.Source == HandSource.Unipen).ToList();
        var split = WriterSplit.Assign(digits);
        int selected = split.Count(s => s == HandSplit.Selection);
        // 10 writers of 4 digits: the fifth is reached with the second writer taken.
        Assert.Equal(8, selected);
        Assert.Equal(split, WriterSplit.Assign(digits));
    }

    [Theory]
    [InlineData(0, "0,0 10,0 10,20 0,20 0,0|-2,22 12,-2", HandStyle.SlashedZero)]
    [InlineData(0, "0,0 10,0 10,20 0,20 0,0|2,10 3,11", HandStyle.None)]
    [InlineData(1, "0,8 8,0 8,20", HandStyle.FlaggedOne)]
    [InlineData(1, "5,0 5,20", HandStyle.None)]
    [InlineData(5, "10,0 0,0 0,10 10,12 10,20 0,20|0,0 10,0", HandStyle.TwoStrokeFive)]
    [InlineData(5, "10,0 0,0 0,10 10,12 10,20 0,20", HandStyle.None)]
    public void Styles_are_told_from_the_strokes(int label, string strokes, HandStyle expected)
    {
        var ink = new StrokeInk(strokes.Split('|').Select(s => s.Split(' ').SelectMany(p => p.Split(',').Select(float.Parse)).ToArray()).ToList());
        Assert.Equal(expected, HandStyles.Of(new HandDigit(HandSource.Unipen, label, "w", "test", ink)));
        Assert.Equal(HandStyle.None, HandStyles.Of(new HandDigit(HandSource.Pendigits, label, "w", "test", ink)));
    }
}
