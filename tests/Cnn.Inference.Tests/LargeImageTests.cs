using Cnn.Tests;
using SkiaSharp;

namespace Cnn.Inference.Tests;

/// <summary>Large photos are decoded at the JPEG decoder's reduced scales, never below what the preprocessing reads.</summary>
public sealed class LargeImageTests
{
    /// <summary>A digit drawn large on a white page of the given size, encoded in the given format.</summary>
    private static byte[] Page(int width, int height, SKEncodedImageFormat format)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        surface.Canvas.Clear(SKColors.White);
        using var digit = SKImage.FromEncodedData(Digits.Drawing(7, 280, 280, 0, 0, 10));
        int side = height / 2;
        surface.Canvas.DrawImage(digit, SKRect.Create((width - side) / 2, (height - side) / 2, side, side));
        using var image = surface.Snapshot();
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    public static TheoryData<int, int, SKEncodedImageFormat, int, int> Sizes => new()
    {
        // 1/2 of 6,000 is 3,000 ≥ 2,048; 1/4 (1,500) would be too small.
        { 6000, 3000, SKEncodedImageFormat.Jpeg, 3000, 1500 },
        // 1/2 of 4,000 is 2,000 < 2,048: decoded as it is.
        { 4000, 3000, SKEncodedImageFormat.Jpeg, 4000, 3000 },
        // PNG has no reduced-scale decoding.
        { 6000, 3000, SKEncodedImageFormat.Png, 6000, 3000 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_large_jpeg_is_decoded_at_a_reduced_scale_and_still_read(int width, int height, SKEncodedImageFormat format, int decodedWidth, int decodedHeight)
    {
        using var model = CnnModel.Load(Repository.ModelPath);
        var bytes = Page(width, height, format);
        Assert.Equal((width, height), ImagePreprocessor.Measure(bytes, "page"));
        var decoded = model.Images.Decode(bytes, "page");
        Assert.Equal((decodedWidth, decodedHeight), (decoded.Width, decoded.Height));
        Assert.Equal(Digits.Label(7).ToString(System.Globalization.CultureInfo.InvariantCulture), model.Predict(model.Images.Prepare(decoded).Pixels).Label);
    }
}
