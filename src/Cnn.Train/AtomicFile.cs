namespace Cnn.Train;

/// <summary>
/// Writes files so that readers see either the old content or the complete new one: into PATH.tmp first, flushed to
/// disk, then renamed over PATH. An interrupted or failed write leaves the old file as it was and no temp file behind.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write) => WriteAll([(path, write)]);

    public static void Write(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    /// <summary>
    /// Writes every file to its temp file first and renames them only when all are complete, so a failure in any
    /// write (a full disk) leaves all the old files as they were: for files that belong together, such as a model and
    /// its features sibling.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        var temps = new List<(string Temp, string Final)>();
        try
        {
            foreach (var (path, write) in files)
            {
                string full = Path.GetFullPath(path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                temps.Add((full + ".tmp", full));
                using var stream = File.Create(full + ".tmp");
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            foreach (var (temp, final) in temps)
            {
                File.Move(temp, final, overwrite: true);
            }
        }
        finally
        {
            foreach (var (temp, _) in temps)
            {
                TryDelete(temp);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the write already failed, and that error is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
