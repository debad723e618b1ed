using Cnn.Contracts;

namespace Cnn.Inference;

/// <summary>
/// Image files and bytes → a model's input, as a model card prescribes: decoding (PNG, JPEG, BMP, WebP; EXIF
/// orientation; bounded by <see cref="InferenceOptions"/>' limits) and the card's preprocessing (a handwritten digit's
/// crop, box, stroke weight and centring, or a grey or colour resize). Needs no model session: a
/// <see cref="CnnModel"/> has one as <see cref="CnnModel.Images"/>, and an app can make its own from a card. Stateless
/// and thread-safe.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly long _maxImagePixels;

    // The largest encoded image read from a file or a stream: a generous 8 bytes per allowed pixel.
    private readonly long _maxEncodedBytes;

    /// <summary>A preprocessor for inputs of the model <paramref name="card"/> describes.</summary>
    /// <param name="card">The model card: its input shape, normalisation and preprocessing.</param>
    /// <param name="options">Decoding limits; null for the defaults.</param>
    public ImagePreprocessor(ModelCard card, InferenceOptions? options = null)
        : this(card, (options ?? new InferenceOptions()).Validated().MaxImagePixels)
    {
    }

    /// <summary>For <see cref="CnnModel"/>, whose options were validated once when it loaded: their image limit.</summary>
    internal ImagePreprocessor(ModelCard card, long maxImagePixels)
    {
        ArgumentNullException.ThrowIfNull(card);
        Card = card;
        _maxImagePixels = maxImagePixels;
        _maxEncodedBytes = maxImagePixels > long.MaxValue / 8 ? long.MaxValue : maxImagePixels * 8;
    }

    /// <summary>The card whose preprocessing this runs.</summary>
    public ModelCard Card { get; }

    /// <summary>
    /// A photo or drawing of one handwritten digit → an MNIST-like frame of <paramref name="height"/>×<paramref name="width"/>:
    /// the digit preprocessing a model card of kind <see cref="PreprocessingKind.Digit"/> prescribes (threshold, crop,
    /// MNIST's 20-px box, stroke weight towards <paramref name="targetInk"/>, centre of mass; deskewed when asked), for
    /// code that prepares digits without a card, such as a trainer rendering its own images the way users' files are read.
    /// </summary>
    /// <param name="image">A decoded image.</param>
    /// <param name="height">Rows of the frame.</param>
    /// <param name="width">Columns of the frame.</param>
    /// <param name="targetInk">The mean ink the strokes are weighted towards (the training data's mean); null to leave them.</param>
    /// <param name="deskew">Whether to take the slant out by <see cref="MomentDeskew"/>.</param>
    /// <returns>The frame, values in [0, 1], white ink on black.</returns>
    /// <exception cref="NoInkException">A blank page, or an image too small to tell ink from paper.</exception>
    public static PreparedImage PrepareDigit(DecodedImage image, int height, int width, double? targetInk, bool deskew)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        return DigitPreprocessor.Prepare(image, height, width, targetInk, deskew);
    }

    /// <summary>Reads and decodes an image file (PNG, JPEG, BMP, WebP), as <see cref="Decode(ReadOnlySpan{byte}, string)"/> decodes bytes.</summary>
    /// <param name="imagePath">The file.</param>
    /// <returns>Its RGBA pixels.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InferenceException">It is not a regular file (a device or a pipe), not a decodable image, or is over <see cref="InferenceOptions.MaxImagePixels"/> (or its file over 8 bytes per such pixel).</exception>
    public DecodedImage Decode(string imagePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        return Decode(ImageFile.Read(imagePath, _maxEncodedBytes), imagePath);
    }

    /// <summary>
    /// Decodes encoded image bytes; <paramref name="source"/> names them in errors. A JPEG or WebP whose long side is
    /// over 4,096 pixels is decoded at its decoder's 1/2, 1/4 or 1/8 scale, keeping the long side at least 2,048 (more
    /// than any preprocessing reads): a 40-megapixel photo costs a quarter of the memory and time.
    /// </summary>
    /// <param name="encoded">PNG, JPEG, BMP or WebP bytes.</param>
    /// <param name="source">Names the image in messages.</param>
    /// <returns>Its RGBA pixels, EXIF orientation applied.</returns>
    /// <exception cref="InferenceException">Not a decodable image, or over <see cref="InferenceOptions.MaxImagePixels"/>.</exception>
    public DecodedImage Decode(ReadOnlySpan<byte> encoded, string source) =>
        ImageDecoder.Decode(encoded, source, _maxImagePixels);

    /// <summary>Reads and decodes an image from <paramref name="stream"/>.</summary>
    /// <param name="stream">The encoded image.</param>
    /// <param name="source">Names the image in messages.</param>
    /// <returns>Its RGBA pixels.</returns>
    /// <exception cref="InferenceException">Not a decodable image, or too large.</exception>
    public DecodedImage Decode(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Decode(ImageDecoder.ReadAll(stream, source, _maxEncodedBytes), source);
    }

    /// <summary>
    /// The width and height of an encoded image, from its header alone (nothing is decoded): what a server needs to
    /// budget decoding work before doing it.
    /// </summary>
    /// <param name="encoded">PNG, JPEG, BMP or WebP bytes.</param>
    /// <param name="source">Names the image in messages.</param>
    /// <returns>The size as displayed, EXIF orientation applied.</returns>
    /// <exception cref="InvalidImageException">Not an image.</exception>
    public static (int Width, int Height) Measure(ReadOnlySpan<byte> encoded, string source) => ImageDecoder.Measure(encoded, source);

    /// <summary>Turns a decoded image into the model's input, as the card's <see cref="ModelCard.Preprocessing"/> prescribes.</summary>
    /// <param name="image">A decoded image.</param>
    /// <returns>The input and where it came from.</returns>
    /// <exception cref="NoInkException">A digit model was given a blank page.</exception>
    public PreparedImage Prepare(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return PreparedImage.From(image, Card);
    }

    /// <summary>Decodes and prepares an image file.</summary>
    /// <param name="imagePath">The file.</param>
    /// <returns>The input and where it came from.</returns>
    public PreparedImage Prepare(string imagePath) => Prepare(Decode(imagePath));

    /// <summary>Decodes and prepares encoded image bytes.</summary>
    /// <param name="encoded">PNG, JPEG, BMP or WebP bytes.</param>
    /// <param name="source">Names the image in messages.</param>
    /// <returns>The input and where it came from.</returns>
    public PreparedImage Prepare(ReadOnlySpan<byte> encoded, string source) => Prepare(Decode(encoded, source));

    /// <summary>Decodes and prepares an image read from <paramref name="stream"/>.</summary>
    /// <param name="stream">The encoded image.</param>
    /// <param name="source">Names the image in messages.</param>
    /// <returns>The input and where it came from.</returns>
    public PreparedImage Prepare(Stream stream, string source) => Prepare(Decode(stream, source));
}
