namespace Cnn.Train;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one: into PATH.tmp first, flushed to
/// disk, then renamed over PATH. An interrupted write leaves the old file as it was.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp";
        using (var stream = File.Create(temp))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, full, overwrite: true);
    }

    public static void Write(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));
}
