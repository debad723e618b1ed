using SkiaSharp;

namespace Cnn.Inference;

/// <summary>Decodes PNG, JPEG, BMP and WebP with SkiaSharp into <see cref="DecodedImage"/>s; every error names the input.</summary>
internal static class ImageDecoder
{
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, string source, long maxPixels)
    {
        if (encoded.IsEmpty)
        {
            throw new InvalidImageException($"{source}: empty file; expected an image (PNG, JPEG, BMP, WebP)");
        }

        using var data = SKData.CreateCopy(encoded);
        // The codec owns the stream once created.
        var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec == null)
        {
            stream.Dispose();
            throw new InvalidImageException($"{source}: not an image SkiaSharp can decode ({result}); expected PNG, JPEG, BMP or WebP");
        }

        var info = codec.Info;
        CheckSize(info.Width, info.Height, source, maxPixels);
        var rgba = new byte[info.Width * info.Height * 4];
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var decoded = codec.GetPixels(target, rgba);
        if (decoded != SKCodecResult.Success)
        {
            throw new InvalidImageException($"{source}: image data is truncated or corrupt ({decoded}); expected a complete {info.Width}×{info.Height} image");
        }

        return new DecodedImage(source, info.Width, info.Height, rgba);
    }

    /// <summary>Reads a whole stream, refusing one longer than <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAll(Stream stream, string source, long maxBytes)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (memory.Length + read > maxBytes)
            {
                throw new ImageTooLargeException($"{source}: the stream is over {maxBytes:N0} bytes; the limit follows from InferenceOptions.MaxImagePixels");
            }

            memory.Write(buffer, 0, read);
        }

        return memory.ToArray();
    }

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
