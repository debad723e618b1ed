using Cnn.Contracts;
using SkiaSharp;

namespace Cnn.Inference;

/// <summary>An image ready for the model: <see cref="Pixels"/> in [0, 1], [C, H, W] row-major, plus where it came from.</summary>
/// <param name="Source">What the image was read from.</param>
/// <param name="Channels">1 (grey) or 3 (RGB).</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Pixels">C × H × W values in [0, 1]: exactly what the model is given.</param>
public sealed record PreparedImage(string Source, int Channels, int Height, int Width, float[] Pixels)
{
    /// <summary>PNG of what the net sees (grey or RGB), each pixel drawn as a <paramref name="scale"/>² block.</summary>
    /// <param name="scale">Enlargement, ≥ 1.</param>
    /// <returns>The encoded PNG.</returns>
    public byte[] EncodePng(int scale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var rgba = ToRgba(scale);
        var info = new SKImageInfo(Width * scale, Height * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, rgba);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Opaque RGBA bytes of the image enlarged by <paramref name="scale"/> (nearest neighbour).</summary>
    /// <param name="scale">Enlargement, ≥ 1.</param>
    /// <returns>(Width·scale) × (Height·scale) × 4 bytes.</returns>
    public byte[] ToRgba(int scale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int w = Width * scale, plane = Height * Width;
        var rgba = new byte[w * Height * scale * 4];
        for (int y = 0; y < Height * scale; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int p = ((y / scale) * Width) + (x / scale);
                int o = ((y * w) + x) * 4;
                for (int c = 0; c < 3; c++)
                {
                    float v = Pixels[(Channels == 3 ? c * plane : 0) + p];
                    rgba[o + c] = (byte)Math.Clamp(MathF.Round(v * 255f), 0, 255);
                }

                rgba[o + 3] = 255;
            }
        }

        return rgba;
    }

    /// <summary>The model's input for a decoded image, by the card's preprocessing.</summary>
    internal static PreparedImage From(DecodedImage image, ModelCard card)
    {
        var shape = card.Input.Shape;
        return card.Preprocessing switch
        {
            PreprocessingKind.Digit => DigitPreprocessor.Prepare(image, shape.Height, shape.Width, card.Normalization.Mean[0], card.Deskew),
            _ => Resized(image, shape),
        };
    }

    /// <summary>Grey or RGB planes over white, resized to the input (Gray and Color preprocessing).</summary>
    private static PreparedImage Resized(DecodedImage image, TensorShape shape)
    {
        // Reduce huge photos by whole blocks first, keeping a few source pixels per output pixel for the filter.
        var planes = Planes.FromImage(image, shape.Channels, 4 * Math.Max(shape.Height, shape.Width)).Resize(shape.Width, shape.Height);
        return new PreparedImage(image.Source, shape.Channels, shape.Height, shape.Width, planes.Values);
    }
}
