using System.Runtime.InteropServices;

namespace Cnn.Inference;

/// <summary>
/// Reads an image file with its size bounded before anything is read: a device (<c>/dev/zero</c> never ends), a FIFO
/// (opening one without a writer blocks forever) or a file over the limit is an <see cref="InvalidImageException"/> /
/// <see cref="ImageTooLargeException"/> naming it, never an out-of-memory or a hang.
/// </summary>
internal static class ImageFile
{
    public static byte[] Read(string path, long maxBytes)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidImageException($"{path}: is a folder; expected an image file");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"image not found: {path}", path);
        }

        if (KindOf(path) is { } kind and not "regular file")
        {
            throw new InvalidImageException($"{path}: is a {kind}; expected a regular image file");
        }

        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw new ImageTooLargeException($"{path}: the file is {length:N0} bytes; the limit is {maxBytes:N0} (8 bytes per pixel of InferenceOptions.MaxImagePixels)");
        }

        using var stream = File.OpenRead(path);
        return ImageDecoder.ReadAll(stream, path, maxBytes);
    }

    /// <summary>What stat(2) says the path is, through .NET's own native shim; null where that cannot be asked.</summary>
    private static string? KindOf(string path)
    {
        try
        {
            if (Stat(path, out var status) != 0)
            {
                return null;
            }

            return (status.Mode & 0xF000) switch
            {
                0x8000 => "regular file",
                0x1000 => "FIFO (named pipe)",
                0x2000 => "character device",
                0x6000 => "block device",
                0xC000 => "socket",
                _ => "special file",
            };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    // System.Native's portable FileStatus (dotnet/runtime pal_io.h): Flags, then Mode with the S_IFMT bits, then more
    // fields this reads nothing of; 256 bytes leave room for all of them.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct FileStatus
    {
        [FieldOffset(4)]
        public int Mode;
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Stat(string path, out FileStatus status);
}
