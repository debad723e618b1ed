using Cnn.Tests;

namespace Cnn.Train.Tests;

/// <summary>data/get-handwriting.sh --from on small generated collections: only checked files arrive, whole or not at all.</summary>
public sealed class GetHandwritingScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(Repository.Root, "data", "get-handwriting.sh");

    private readonly TempFolder _dir = new();
    private readonly string _from;
    private readonly string _manifest;
    private readonly string _dest;

    public GetHandwritingScriptTests()
    {
        _from = SyntheticHandwriting.Write(_dir.Combine("from"));
        _manifest = _dir.Combine("manifest.sha256");
        File.WriteAllText(_manifest, SyntheticHandwriting.Manifest(_from));
        _dest = _dir.Combine("cache", "handwriting-sources");
    }

    public void Dispose() => _dir.Dispose();

    private (int ExitCode, string Output) Fetch() => ChildProcess.Run("bash", _dir.Path, Script, "--from", _from, "--manifest", _manifest, _dest);

    private string[] Leftovers() => Directory.GetFileSystemEntries(_dir.Combine("cache")).Select(Path.GetFileName).Where(n => n != "handwriting-sources").ToArray()!;

    [Fact]
    public void A_good_copy_arrives_whole_and_replaces_an_earlier_one()
    {
        Directory.CreateDirectory(_dest);
        File.WriteAllText(Path.Combine(_dest, "stale"), "from before");
        var (code, output) = Fetch();
        Assert.True(code == 0, output);
        Assert.Equal(SyntheticHandwriting.Manifest(_from), SyntheticHandwriting.Manifest(_dest));
        Assert.Empty(Leftovers());
        Assert.Equal(SyntheticHandwriting.Total, Data.Handwriting.HandwritingSources.Read(_dest).Digits.Count);
    }

    [Fact]
    public void Files_outside_the_manifest_are_not_taken()
    {
        File.WriteAllText(Path.Combine(_from, "unipen_1a", "evaluation-only.dat"), "kept elsewhere");
        var (code, output) = Fetch();
        Assert.True(code == 0, output);
        Assert.False(File.Exists(Path.Combine(_dest, "unipen_1a", "evaluation-only.dat")));
    }

    [Fact]
    public void An_altered_file_is_named_and_nothing_is_written()
    {
        Directory.CreateDirectory(_dest);
        File.WriteAllText(Path.Combine(_dest, "earlier"), "kept");
        string pendigits = Path.Combine(_from, "pendigits", "pendigits.tra");
        File.WriteAllLines(pendigits, File.ReadAllLines(pendigits).SkipLast(1));
        var (code, output) = Fetch();
        Assert.Equal(1, code);
        Assert.Contains("get-handwriting: pendigits/pendigits.tra: FAILED", output);
        Assert.Contains($"nothing was written to {_dest}", output);
        Assert.Equal(["earlier"], Directory.GetFileSystemEntries(_dest).Select(Path.GetFileName));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void A_missing_file_is_named_and_nothing_is_written()
    {
        File.Delete(Path.Combine(_from, "optdigits", "optdigits-orig.cv"));
        var (code, output) = Fetch();
        Assert.Equal(1, code);
        Assert.Contains($"get-handwriting: {_from}/optdigits/optdigits-orig.cv is missing", output);
        Assert.False(Directory.Exists(_dest));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void The_pinned_manifest_lists_only_the_collections_training_may_use()
    {
        var paths = File.ReadAllLines(Path.Combine(Repository.Root, "data", "handwriting-sources.sha256")).Select(l => l.Split("  ", 2)[1]).ToList();
        Assert.Equal(1018, paths.Count);
        string[] evaluationOnly = ["gmd", "tos", "uqb", "val"];
        Assert.DoesNotContain(paths, p => evaluationOnly.Any(site => p.Contains($"/{site}/", StringComparison.Ordinal)));
        Assert.Contains("pendigits/pendigits.tra", paths);
        Assert.DoesNotContain(paths, p => p.Contains(".tes", StringComparison.Ordinal) || p.Contains("windep", StringComparison.Ordinal));
    }
}
