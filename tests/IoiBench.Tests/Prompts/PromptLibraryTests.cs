using IoiBench.Prompts;
using IoiBench.Tokenization;

namespace IoiBench.Tests.Prompts;

public class PromptLibraryTests
{
    internal static string PromptsDirectory => Path.Combine(TestPaths.RepoRoot, "prompts");
    internal static ITokenizer Gpt2Tokenizer => TokenizerLoader.Load(TestPaths.Gpt2Vocabulary);

    private static TestPaths.TempDirectory CopyOfPrompts()
    {
        var dir = new TestPaths.TempDirectory();
        foreach (string file in Directory.GetFiles(PromptsDirectory, "*.yaml")) File.Copy(file, dir.File(Path.GetFileName(file)));
        return dir;
    }

    [Fact]
    public void TheReferenceRepositorysDataFolderLoadsAsTheSamePrompts()
    {
        // Fixtures/reference-prompts holds the tiny word lists laid out as the reference's data/ folder (JSON lists,
        // {name_A}-style templates without their prefix, prefixes.json): it gives the YAML fixture's prompts, prompt for prompt.
        var reference = PromptLibrary.Load(Path.Combine(TestPaths.Fixtures, "reference-prompts"));
        var yaml = PromptLibrary.Load(TinyDataset.PromptsDirectory);
        Assert.Equal(yaml.Templates.Select(t => t.Text), reference.Templates.Select(t => t.Text));
        Assert.Equal(yaml.Names, reference.Names);
        var tokenizer = TinyDataset.Model.Value.Tokenizer;
        var a = IoiDataset.Generate(yaml, tokenizer, TinyDataset.Options);
        var b = IoiDataset.Generate(reference, tokenizer, TinyDataset.Options);
        Assert.Equal(a.Test.Select(e => e.Counterfactual(IoiAttribute.Io).Prompt.Text), b.Test.Select(e => e.Counterfactual(IoiAttribute.Io).Prompt.Text));
        Assert.Equal(a.Train.Select(e => e.Clean.Prompt.Text), b.Train.Select(e => e.Clean.Prompt.Text));
    }

    [Fact]
    public void BundledListsAreLargeEnoughAndSingleTokensInGpt2()
    {
        var library = PromptLibrary.Load(PromptsDirectory);
        Assert.True(library.Names.Count >= 200, $"{library.Names.Count} names");
        Assert.True(library.Objects.Count >= 100, $"{library.Objects.Count} objects");
        Assert.True(library.Places.Count >= 60, $"{library.Places.Count} places");
        Assert.Equal(3, library.Templates.Count(t => t.Source == "reference"));
        Assert.True(library.Templates.Count(t => t.Source != "reference") >= 12);
        library.CheckSingleTokens(Gpt2Tokenizer);
    }

    [Fact]
    public void AMultiTokenWordIsNamedWithItsListAndFile()
    {
        using var dir = CopyOfPrompts();
        File.WriteAllText(dir.File("names.yaml"), File.ReadAllText(dir.File("names.yaml")).Replace("  - Mary\n", "  - Zachary\n"));
        var library = PromptLibrary.Load(dir.Path);
        var e = Assert.Throws<InvalidInputException>(() => library.CheckSingleTokens(Gpt2Tokenizer));
        Assert.Contains("'Zachary'", e.Message);
        Assert.Contains("'names'", e.Message);
        Assert.Contains("names.yaml", e.Message);
    }

    [Fact]
    public void UnknownKeysAndBadTemplatesNameTheFileAndLine()
    {
        using var dir = CopyOfPrompts();
        File.WriteAllText(dir.File("templates.yaml"), "templates:\n  - id: x\n    source: test\n    txt: \"{A} and {B}. {S} to\"\n");
        var e = Assert.Throws<InvalidInputException>(() => PromptLibrary.Load(dir.Path));
        Assert.Contains("templates.yaml:4", e.Message);
        Assert.Contains("'txt'", e.Message);

        File.WriteAllText(dir.File("templates.yaml"), "templates:\n  - id: x\n    source: test\n    text: \"Then, {A} and {B} went. Bob gave to\"\n");
        e = Assert.Throws<InvalidInputException>(() => PromptLibrary.Load(dir.Path));
        Assert.Contains("templates.yaml:2", e.Message);
        Assert.Contains("{S}", e.Message);
    }

    [Fact]
    public void InvalidYamlIsReportedWithItsLine()
    {
        using var dir = CopyOfPrompts();
        File.WriteAllText(dir.File("places.yaml"), "places:\n  - store\n  - [unclosed\n");
        var e = Assert.Throws<InvalidInputException>(() => PromptLibrary.Load(dir.Path));
        Assert.Contains("places.yaml:", e.Message);
        Assert.Contains("invalid YAML", e.Message);
    }
}
