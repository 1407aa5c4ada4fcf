using System.CommandLine;
using System.Text;

namespace IoiBench.Tests.Cli;

/// <summary>
/// docs/cli.md is every command's --help, in order: the reference cannot drift from the program. After changing an
/// option, regenerate it with <c>IOIBENCH_UPDATE_DOCS=1 dotnet test --filter CliReferenceTests</c>.
/// </summary>
public class CliReferenceTests
{
    private static readonly string Reference = Path.Combine(TestPaths.RepoRoot, "docs", "cli.md");

    [Fact]
    public void DocsCliMdIsEveryCommandsHelp()
    {
        string expected = Render();
        if (Environment.GetEnvironmentVariable("IOIBENCH_UPDATE_DOCS") == "1") File.WriteAllText(Reference, expected);
        Assert.True(File.Exists(Reference) && File.ReadAllText(Reference) == expected,
            "docs/cli.md is not the commands' --help: regenerate it with IOIBENCH_UPDATE_DOCS=1 dotnet test --filter CliReferenceTests.");
    }

    private static string Render()
    {
        var md = new StringBuilder("# Command reference\n\n");
        md.Append("Every command's `--help`, as `ioibench` prints it (a test keeps this page equal to the program's help). ");
        md.Append("Bad arguments or input files print one line naming the problem and exit with code 2.\n");
        var root = IoiBench.Cli.Program.CreateRoot(TextWriter.Null, TextWriter.Null);
        foreach (var (path, _) in Commands(root, []))
        {
            md.Append($"\n## ioibench {string.Join(' ', path)}\n\n```text\n");
            var (code, output, error) = CliRunner.Run([.. path, "--help"]);
            Assert.True(code == 0 && error == "", $"ioibench {string.Join(' ', path)} --help failed: {error}");
            md.Append(string.Join("\n", output.TrimEnd().Split('\n').Select(line => line.TrimEnd()))).Append("\n```\n");
        }
        return md.ToString();
    }

    private static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path)
    {
        foreach (var sub in command.Subcommands)
        {
            string[] subPath = [.. path, sub.Name];
            if (sub.Subcommands.Count == 0) yield return (subPath, sub);
            foreach (var nested in Commands(sub, subPath)) yield return nested;
        }
    }
}
