namespace IoiBench.IO;

/// <summary>
/// One IoiBench process at a time in an output folder: the lock is an open, exclusively shared file
/// (<c>.ioibench.lock</c>), so the operating system releases it when its process ends, however it ends — a lock left by
/// a killed run never blocks the next one. A second process is refused at once, with the holder's process id.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    private const string LockFile = ".ioibench.lock", OwnerFile = ".ioibench.lock.owner";
    private readonly FileStream _stream;

    private DirectoryLock(FileStream stream) => _stream = stream;

    public static DirectoryLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, LockFile), owner = Path.Combine(directory, OwnerFile);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string holder = File.Exists(owner) ? File.ReadAllText(owner).Trim() : "another process";
            throw new InvalidInputException($"{directory} is in use by {holder}; wait for it to finish, or give another output folder.");
        }
        AtomicFile.WriteAllText(owner, $"ioibench process {Environment.ProcessId} on {Environment.MachineName}, since {DateTimeOffset.Now:u}");
        return new DirectoryLock(stream);
    }

    public void Dispose() => _stream.Dispose();
}
