namespace Cnn.Inference;

/// <summary>
/// Reads an image file with its size bounded before anything is read: a device (<c>/dev/zero</c> never ends), a FIFO
/// (opening one without a writer blocks forever) or a file over the limit is an <see cref="InvalidImageException"/> /
/// <see cref="ImageTooLargeException"/> naming it, never an out-of-memory or a hang.
/// </summary>
internal static class ImageFile
{
    public static byte[] Read(string path, long maxBytes) => RegularFile.ReadAll(
        path, maxBytes, "image file", "image not found",
        message => new InvalidImageException(message),
        message => new ImageTooLargeException($"{message} (8 bytes per pixel of InferenceOptions.MaxImagePixels)"));
}
