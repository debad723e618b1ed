namespace Cnn.Inference;

/// <summary>
/// An image decoded once: 8-bit RGBA pixels, not premultiplied, row-major. <see cref="CnnModel.Prepare(DecodedImage)"/>
/// turns it into a model input; apps can also show it (e.g. beside what the net saw) without decoding it again.
/// </summary>
public sealed class DecodedImage
{
    internal DecodedImage(string source, int width, int height, byte[] rgba)
    {
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
