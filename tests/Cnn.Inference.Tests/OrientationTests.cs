using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Inference.Tests;

/// <summary>EXIF orientation: a photo stored as the sensor read it is decoded as it is meant to be seen.</summary>
public sealed class OrientationTests
{
    private static readonly SKColor R = SKColors.Red, G = SKColors.Lime, B = SKColors.Blue, W = SKColors.White;

    /// <summary>
    /// For each EXIF orientation, the quadrants (top-left, top-right, bottom-left, bottom-right) of the image as stored,
    /// such that turning it as the tag says shows R G / B W in a 64×32 image. Worked out by hand from the EXIF
    /// definitions (orientation 6: the stored image is the scene turned a quarter anticlockwise), not by the decoder.
    /// </summary>
    public static TheoryData<int, string> Stored => new()
    {
        { 1, "RGBW" }, { 2, "GRWB" }, { 3, "WBGR" }, { 4, "BWRG" },
        { 5, "RBGW" }, { 6, "GWRB" }, { 7, "WGBR" }, { 8, "BRWG" },
    };

    [Theory]
    [MemberData(nameof(Stored))]
    public void Every_exif_orientation_is_applied_on_decode(int orientation, string stored)
    {
        bool sideways = orientation >= 5;
        var jpeg = WithOrientation(Quadrants(sideways ? 32 : 64, sideways ? 64 : 32, stored), orientation);

        using var model = CnnModel.Load(Repository.ModelPath);
        var decoded = model.Images.Decode(jpeg, "photo.jpg");

        Assert.Equal((64, 32), (decoded.Width, decoded.Height));
        var expected = new[] { R, G, B, W };
        var centres = new[] { (16, 8), (48, 8), (16, 24), (48, 24) };
        for (int q = 0; q < 4; q++)
        {
            var (x, y) = centres[q];
            var pixel = decoded.Rgba.Span.Slice(((y * 64) + x) * 4, 3).ToArray();
            Assert.True(Near(pixel, expected[q]), $"orientation {orientation}, quadrant {q}: {string.Join(",", pixel)} is not {expected[q]}");
        }
    }

    private static bool Near(byte[] rgb, SKColor c) =>
        Math.Abs(rgb[0] - c.Red) < 40 && Math.Abs(rgb[1] - c.Green) < 40 && Math.Abs(rgb[2] - c.Blue) < 40;

    /// <summary>A JPEG of four solid quadrants, coloured as <paramref name="layout"/> says (R, G, B or W each).</summary>
    private static byte[] Quadrants(int width, int height, string layout)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var colours = layout.Select(c => c switch { 'R' => R, 'G' => G, 'B' => B, _ => W }).ToArray();
        for (int q = 0; q < 4; q++)
        {
            using var paint = new SKPaint { Color = colours[q] };
            surface.Canvas.DrawRect(SKRect.Create(q % 2 * width / 2, q / 2 * height / 2, width / 2, height / 2), paint);
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 100);
        return data.ToArray();
    }

    /// <summary>The JPEG with an EXIF APP1 segment right after its SOI marker holding one tag: Orientation (0x0112).</summary>
    private static byte[] WithOrientation(byte[] jpeg, int orientation)
    {
        byte[] exif =
        [
            0xFF, 0xE1, 0x00, 0x22, // APP1, length 34
            (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, (byte)orientation, 0x00, 0x00, // Orientation, SHORT, 1
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        return [.. jpeg.AsSpan(0, 2), .. exif, .. jpeg.AsSpan(2)];
    }
}
