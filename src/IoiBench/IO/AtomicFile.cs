namespace IoiBench.IO;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so readers never see half a file. The temporary file's
/// name carries the writing process's id (<c>.NAME.PID-RANDOM.tmp</c>), so that one left by a killed process can be
/// told from one being written (<see cref="RemoveOrphans"/>).
/// </summary>
public static partial class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>
    /// Deletes the temporary files under <paramref name="directory"/> (and its subfolders when <paramref name="recursive"/>)
    /// whose writing process no longer runs: what a kill during a write leaves. Returns how many it removed.
    /// </summary>
    public static int RemoveOrphans(string directory, bool recursive = true)
    {
        if (!Directory.Exists(directory)) return 0;
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(directory, ".*.tmp", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
        {
            var match = TempName().Match(Path.GetFileName(file));
            if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, out int pid) || Running(pid)) continue;
            File.Delete(file);
            removed++;
        }
        return removed;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\..+\.(\d+)-[0-9a-f]{32}\.tmp$")]
    private static partial System.Text.RegularExpressions.Regex TempName();

    private static bool Running(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
