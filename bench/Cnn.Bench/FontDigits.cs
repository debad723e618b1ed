using System.IO.Compression;
using SkiaSharp;

namespace Cnn.Bench;

/// <summary>
/// The digits 0–9 of handwriting fonts (each made from one person's handwriting) as 64×64 white-on-black IDX images,
/// the glyph fitted into a 56-px box: the second half of data/handwriting-eval. data/handwriting-eval/build.sh calls
/// it on the fonts it takes from Debian packages.
/// </summary>
internal static class FontDigits
{
    public const int Side = 64;
    private const int Box = 56;

    public static int Write(string fontFolder, string outFolder)
    {
        var fonts = Directory.GetFiles(fontFolder).Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        var pixels = new List<byte>();
        var labels = new List<byte>();
        foreach (var path in fonts)
        {
            using var typeface = SKTypeface.FromFile(path) ?? throw new InvalidDataException($"{path}: not a font SkiaSharp can read");
            for (int digit = 0; digit < 10; digit++)
            {
                pixels.AddRange(Glyph(typeface, digit, path));
                labels.Add((byte)digit);
            }

            Console.WriteLine($"{Path.GetFileName(path)}: {typeface.FamilyName}");
        }

        WriteIdx(Path.Combine(outFolder, "fonts-images-idx3-ubyte.gz"), [0, 0, 8, 3], [labels.Count, Side, Side], [.. pixels]);
        WriteIdx(Path.Combine(outFolder, "fonts-labels-idx1-ubyte.gz"), [0, 0, 8, 1], [labels.Count], [.. labels]);
        Console.WriteLine($"{labels.Count} glyphs from {fonts.Count} fonts written to {outFolder}");
        return 0;
    }

    /// <summary>The digit's outline filled in white on black, its bounds scaled into the box and centred.</summary>
    private static byte[] Glyph(SKTypeface typeface, int digit, string path)
    {
        using var font = new SKFont(typeface, 200);
        Span<ushort> glyphs = stackalloc ushort[1];
        font.GetGlyphs(digit.ToString(System.Globalization.CultureInfo.InvariantCulture).AsSpan(), glyphs);
        if (glyphs[0] == 0)
        {
            throw new InvalidDataException($"{path}: has no glyph for {digit}");
        }

        using var outline = font.GetGlyphPath(glyphs[0]);
        var bounds = outline.Bounds;
        float scale = Box / Math.Max(bounds.Width, bounds.Height);
        using var bitmap = new SKBitmap(new SKImageInfo(Side, Side, SKColorType.Gray8, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Black);
            canvas.Translate(Side / 2f, Side / 2f);
            canvas.Scale(scale);
            canvas.Translate(-bounds.MidX, -bounds.MidY);
            using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Fill };
            canvas.DrawPath(outline, paint);
        }

        return bitmap.Bytes;
    }

    private static void WriteIdx(string path, byte[] magic, int[] dims, byte[] data)
    {
        using var file = File.Create(path);
        using var z = new GZipStream(file, CompressionLevel.SmallestSize);
        z.Write(magic);
        Span<byte> number = stackalloc byte[4];
        foreach (var d in dims)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(number, d);
            z.Write(number);
        }

        z.Write(data);
    }
}
