namespace Cnn.Train;

/// <summary>Another process (or another training in this one) holds the run folder.</summary>
public sealed class RunFolderLockedException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// An exclusive lock on a run folder for the life of a training: <c>run.lock</c> held open with no sharing, which
/// .NET maps to an advisory <c>flock</c> on Linux and macOS and to a share-mode lock on Windows. The operating system
/// drops the lock when the holder exits, killed or not, so a stale lock file never blocks a later run. The file
/// itself stays (deleting it on release would let two processes lock different inodes of the same name).
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";

    private readonly FileStream _stream;

    private RunLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock on <paramref name="folder"/> (creating the folder), or throws at once if it is held.</summary>
    /// <exception cref="RunFolderLockedException">Another training holds it.</exception>
    public static RunLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        try
        {
            return new RunLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new RunFolderLockedException(
                $"{folder} is being trained by another cnn process (it holds {FileName}); wait for it to finish, or choose another folder", e);
        }
    }

    public void Dispose() => _stream.Dispose();
}
