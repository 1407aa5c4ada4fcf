namespace IoiBench.Tests;

/// <summary>Where the committed fixtures and the fetched GPT-2 vocabulary live, found from the repository root.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Fixtures => Path.Combine(RepoRoot, "tests", "IoiBench.Tests", "Fixtures");
    public static string TinyModel => Path.Combine(Fixtures, "tiny-gpt2");

    /// <summary>GPT-2's real vocab.json + merges.txt, fetched by tools/fetch-gpt2-vocab.sh (run by tools/test.sh).</summary>
    public static string Gpt2Vocabulary
    {
        get
        {
            string dir = Environment.GetEnvironmentVariable("IOIBENCH_GPT2_VOCAB") ?? Path.Combine(RepoRoot, ".cache", "gpt2-vocab");
            Assert.True(File.Exists(Path.Combine(dir, "vocab.json")) && File.Exists(Path.Combine(dir, "merges.txt")),
                $"GPT-2 vocabulary missing in {dir}: run tools/fetch-gpt2-vocab.sh (tools/test.sh does it).");
            return dir;
        }
    }

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
