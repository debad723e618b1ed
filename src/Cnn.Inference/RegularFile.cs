using System.Runtime.InteropServices;

namespace Cnn.Inference;

/// <summary>
/// Reads a whole file that must be a regular file under a size limit. What the path finally names (symlinks followed)
/// is asked of stat(2) before it is opened: opening a FIFO would block until a writer came, and a device such as
/// /dev/zero never ends. The read itself stops at the limit too, so a file that grows after the check is still bounded.
/// </summary>
internal static class RegularFile
{
    /// <summary>The file's bytes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The most bytes it may hold.</param>
    /// <param name="what">What the file should be, for messages ("image file", ".onnx file written by `cnn export`").</param>
    /// <param name="notFound">The start of the message for a missing file ("image not found").</param>
    /// <param name="notRegular">The exception for a path that is not a regular file (its message).</param>
    /// <param name="tooLarge">The exception for a file over the limit (its message).</param>
    public static byte[] ReadAll(string path, long maxBytes, string what, string notFound, Func<string, Exception> notRegular, Func<string, Exception> tooLarge)
    {
        if (Directory.Exists(path))
        {
            throw notRegular($"{path}: is a folder; expected {Article(what)} {what}");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{notFound}: {path}", path);
        }

        if (KindOf(path) is { } kind and not "regular file")
        {
            throw notRegular($"{path}: is a {kind}; expected a regular {what}");
        }

        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw tooLarge($"{path}: the file is {length:N0} bytes; the limit is {maxBytes:N0}");
        }

        using var stream = File.OpenRead(path);
        return BoundedStream.ReadAll(stream, maxBytes, () => tooLarge($"{path}: the file grew past {maxBytes:N0} bytes while it was read; the limit is {maxBytes:N0}"), length);
    }

    private static string Article(string what) => "aeiou.".Contains(what[0], StringComparison.Ordinal) ? "an" : "a";

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
