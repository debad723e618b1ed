using SkiaSharp;

namespace Cnn.Inference;

/// <summary>Decodes PNG, JPEG, BMP and WebP with SkiaSharp into <see cref="DecodedImage"/>s; every error names the input.</summary>
internal static class ImageDecoder
{
    /// <summary>
    /// A JPEG or WebP is decoded at a reduced scale (its decoder's own 1/2, 1/4 or 1/8) as long as the long side stays
    /// at least this many pixels: the most any preprocessing reads (the digit pipeline's working size). A 40-megapixel
    /// photo then costs a quarter of the memory and decoding work.
    /// </summary>
    internal const int MinDecodedLongSide = 2048;

    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, string source, long maxPixels)
    {
        using var codec = Open(encoded, source);
        var info = codec.Info;
        CheckSize(info.Width, info.Height, source, maxPixels);
        var size = DecodedSize(codec);
        var rgba = new byte[size.Width * size.Height * 4];
        var target = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var decoded = codec.GetPixels(target, rgba);
        if (decoded != SKCodecResult.Success)
        {
            throw new InvalidImageException($"{source}: image data is truncated or corrupt ({decoded}); expected a complete {info.Width}×{info.Height} image");
        }

        return Oriented(new DecodedImage(source, size.Width, size.Height, rgba), codec.EncodedOrigin);
    }

    /// <summary>The smallest size the codec decodes to natively whose long side is still at least <see cref="MinDecodedLongSide"/>.</summary>
    private static SKSizeI DecodedSize(SKCodec codec)
    {
        var best = codec.Info.Size;
        foreach (float scale in (ReadOnlySpan<float>)[0.5f, 0.25f, 0.125f])
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (Math.Max(scaled.Width, scaled.Height) < MinDecodedLongSide || scaled.Width >= best.Width)
            {
                break;
            }

            best = scaled;
        }

        return best;
    }

    /// <summary>
    /// The image as it is meant to be seen: a phone stores a photo as the sensor read it and says in EXIF how to turn it
    /// (a 7 shot in portrait and stored on its side was read as a 4 before this).
    /// </summary>
    internal static DecodedImage Oriented(DecodedImage image, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0)
        {
            return image;
        }

        int w = image.Width, h = image.Height;
        bool swap = IsSideways(origin);
        int ow = swap ? h : w, oh = swap ? w : h;
        var source = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(image.Rgba.Span);
        var rgba = new byte[ow * oh * 4];
        var output = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(rgba.AsSpan());
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                // Where the displayed pixel (x, y) is stored.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x), // LeftBottom
                };
                output[(y * ow) + x] = source[(sy * w) + sx];
            }
        }

        return new DecodedImage(image.Source, ow, oh, rgba);
    }

    /// <summary>The image's width and height as displayed (EXIF orientation applied), read from its header alone.</summary>
    public static (int Width, int Height) Measure(ReadOnlySpan<byte> encoded, string source)
    {
        using var codec = Open(encoded, source);
        var info = codec.Info;
        return IsSideways(codec.EncodedOrigin) ? (info.Height, info.Width) : (info.Width, info.Height);
    }

    /// <summary>A codec over a copy of <paramref name="encoded"/>, its header read; nothing decoded yet.</summary>
    private static SKCodec Open(ReadOnlySpan<byte> encoded, string source)
    {
        if (encoded.IsEmpty)
        {
            throw new InvalidImageException($"{source}: empty file; expected an image (PNG, JPEG, BMP, WebP)");
        }

        // The codec holds its own reference to the data. Made from the data rather than a stream over it: a third of
        // the cost of decoding a 28×28 PNG was the stream's setup.
        using var data = SKData.CreateCopy(encoded);
        return SKCodec.Create(data) ?? throw new InvalidImageException(
            $"{source}: not an image SkiaSharp can decode ({Refusal(data)}); expected PNG, JPEG, BMP or WebP");
    }

    /// <summary>Why SkiaSharp refuses <paramref name="data"/>: only its stream overload says.</summary>
    private static SKCodecResult Refusal(SKData data)
    {
        // A codec, once made, owns its stream.
        var stream = new SKMemoryStream(data);
        var codec = SKCodec.Create(stream, out var result);
        (codec as IDisposable ?? stream).Dispose();
        return result;
    }

    /// <summary>Orientations whose stored image is the displayed one turned a quarter: width and height swap.</summary>
    private static bool IsSideways(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Reads a whole stream, refusing one longer than <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAll(Stream stream, string source, long maxBytes) => BoundedStream.ReadAll(
        stream, maxBytes, () => new ImageTooLargeException($"{source}: the stream is over {maxBytes:N0} bytes; the limit follows from InferenceOptions.MaxImagePixels"));

    private static void CheckSize(int width, int height, string source, long maxPixels)
    {
        if (width <= 0 || height <= 0)
        {
            throw new InvalidImageException($"{source}: image is {width}×{height}; expected at least 1×1");
        }

        long pixels = (long)width * height;
        if (pixels > maxPixels)
        {
            throw new ImageTooLargeException($"{source}: image is {width}×{height} = {pixels:N0} pixels; the limit is {maxPixels:N0} (InferenceOptions.MaxImagePixels)");
        }
    }
}
