namespace Cnn.Inference;

/// <summary>Reads a stream whole, stopping as soon as it passes a limit: what an image, a model file or a model stream may hold.</summary>
internal static class BoundedStream
{
    /// <summary>The stream's bytes, or <paramref name="tooLarge"/>'s exception once they pass <paramref name="maxBytes"/>.</summary>
    /// <param name="stream">The stream, read to its end.</param>
    /// <param name="maxBytes">The most bytes it may hold.</param>
    /// <param name="tooLarge">The exception for a stream over the limit.</param>
    /// <param name="expected">The length expected (a file's), to size the buffer once; 0 when unknown.</param>
    public static byte[] ReadAll(Stream stream, long maxBytes, Func<Exception> tooLarge, long expected = 0)
    {
        using var memory = new MemoryStream((int)Math.Clamp(expected, 0, Math.Min(maxBytes, int.MaxValue)));
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (memory.Length + read > maxBytes)
            {
                throw tooLarge();
            }

            memory.Write(buffer, 0, read);
        }

        return memory.Length == memory.Capacity ? memory.GetBuffer() : memory.ToArray();
    }
}
