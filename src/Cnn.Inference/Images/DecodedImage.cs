namespace Cnn.Inference;

/// <summary>
/// An image decoded once: 8-bit RGBA pixels, not premultiplied, row-major. <see cref="ImagePreprocessor.Prepare(DecodedImage)"/>
/// turns it into a model input; apps can also show it (e.g. beside what the net saw) without decoding it again.
/// </summary>
public sealed class DecodedImage
{
    /// <summary>An image an app drew or decoded itself.</summary>
    /// <param name="source">What the image is, for messages.</param>
    /// <param name="width">Pixels per row, ≥ 1.</param>
    /// <param name="height">Rows, ≥ 1.</param>
    /// <param name="rgba">Width × height × 4 bytes, straight alpha, row-major from the top-left; kept, not copied.</param>
    public DecodedImage(string source, int width, int height, byte[] rgba)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rgba);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (rgba.LongLength != 4L * width * height)
        {
            throw new ArgumentException($"{source}: {rgba.LongLength:N0} bytes for a {width}×{height} RGBA image; expected {4L * width * height:N0}", nameof(rgba));
        }

        Source = source;
        Width = width;
        Height = height;
        Rgba = rgba;
    }

    /// <summary>What the image was read from, for messages.</summary>
    public string Source { get; }

    /// <summary>Pixels per row.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Width × Height × 4 bytes: red, green, blue, alpha (straight alpha), row-major from the top-left.</summary>
    public ReadOnlyMemory<byte> Rgba { get; }
}
