namespace Cnn.Train.Data.Handwriting;

/// <summary>The digits of the three outside collections, read from one folder, with what reading them skipped.</summary>
/// <param name="Folder">Where they were read.</param>
/// <param name="Digits">UNIPEN's, then optdigits' (.tra, .cv), then pendigits', each in file order.</param>
/// <param name="Skipped">UNIPEN's records that were not digits, by reason (the UCI files have none: anything off is refused).</param>
public sealed record HandwritingSources(string Folder, IReadOnlyList<HandDigit> Digits, ReadReport Skipped)
{
    /// <summary>The download cache's name: <c>~/.cache/cnn/handwriting-sources</c>.</summary>
    public const string CacheName = "handwriting-sources";

    /// <summary>The files under a sources folder, as <c>data/get-handwriting.sh</c> lays them out.</summary>
    public const string Unipen = "unipen_1a", OptdigitsTrain = "optdigits/optdigits-orig.tra", OptdigitsCv = "optdigits/optdigits-orig.cv", Pendigits = "pendigits/pendigits.tra";

    /// <summary>Where <c>data/get-handwriting.sh</c> puts them: $XDG_CACHE_HOME/cnn/handwriting-sources, else ~/.cache/cnn/handwriting-sources.</summary>
    public static string DefaultFolder => DatasetCatalog.CacheFolder(CacheName);

    /// <summary>Reads all three collections from <paramref name="folder"/>; a missing part is refused naming it and the command that fetches it.</summary>
    public static HandwritingSources Read(string folder)
    {
        string full = Path.GetFullPath(folder);
        var missing = new[] { Unipen, OptdigitsTrain, OptdigitsCv, Pendigits }
            .Where(p => !File.Exists(Path.Combine(full, p)) && !Directory.Exists(Path.Combine(full, p))).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException(
                $"{full}: missing {string.Join(", ", missing)}; `bash data/get-handwriting.sh` fetches UNIPEN and UCI's optdigits and pendigits there (or `--from DIR` copies a local copy)");
        }

        var skipped = new ReadReport();
        var digits = new List<HandDigit>(UnipenReader.Read(Path.Combine(full, Unipen), skipped));
        digits.AddRange(OptdigitsReader.Read(Path.Combine(full, OptdigitsTrain)));
        digits.AddRange(OptdigitsReader.Read(Path.Combine(full, OptdigitsCv)));
        digits.AddRange(PendigitsReader.Read(Path.Combine(full, Pendigits)));
        return new HandwritingSources(full, digits, skipped);
    }
}

/// <summary>Digits of the outside collections rendered as model inputs.</summary>
/// <param name="Pixels">Count × height × width bytes, white ink on black.</param>
/// <param name="Labels">0–9 per image.</param>
/// <param name="Digits">The digit each image was drawn from.</param>
/// <param name="NoInk">Renderings in which the preprocessing found no ink (left out).</param>
public sealed record HandRenders(byte[] Pixels, byte[] Labels, IReadOnlyList<HandDigit> Digits, int NoInk)
{
    /// <summary>Images.</summary>
    public int Count => Labels.Length;

    /// <summary>
    /// Renders each of <paramref name="digits"/> <paramref name="renders"/> times with styles drawn from
    /// <paramref name="seed"/>, the digit's place and the rendering's number (so the images do not depend on
    /// <paramref name="threads"/>), then prepares them as <c>cnn predict</c> prepares a file for a model whose
    /// training data's mean intensity is <paramref name="targetInk"/>.
    /// </summary>
    public static HandRenders Render(IReadOnlyList<HandDigit> digits, int renders, long seed, int height, int width, double targetInk, bool deskew, int threads)
    {
        var images = new byte[]?[digits.Count * renders];
        Parallel.For(0, images.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            var random = RandomFor(seed, i / renders, i % renders);
            images[i] = InkRenderer.Prepare(digits[i / renders].Ink, random, height, width, targetInk, deskew);
        });
        int plane = height * width;
        int kept = images.Count(b => b != null);
        var pixels = new byte[kept * plane];
        var labels = new byte[kept];
        var sources = new List<HandDigit>(kept);
        for (int i = 0, k = 0; i < images.Length; i++)
        {
            if (images[i] is { } image)
            {
                image.CopyTo(pixels, k * plane);
                labels[k++] = (byte)digits[i / renders].Label;
                sources.Add(digits[i / renders]);
            }
        }

        return new HandRenders(pixels, labels, sources, images.Length - kept);
    }

    /// <summary>The generator of one rendering's style: the same three numbers give the same image.</summary>
    public static Random RandomFor(long seed, int digit, int render) => new(Seed(seed, digit, render));

    /// <summary>A seed for one rendering (SplitMix64 of the three numbers: stable across runs and .NET versions, unlike HashCode).</summary>
    private static int Seed(long seed, int digit, int render)
    {
        ulong z = unchecked((ulong)seed + (0x9E3779B97F4A7C15UL * (ulong)(((long)digit << 8) + render + 1)));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }
}
