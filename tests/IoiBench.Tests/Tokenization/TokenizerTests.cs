using System.Text.Json;
using IoiBench.Tokenization;

namespace IoiBench.Tests.Tokenization;

public class Gpt2BpeTests
{
    private static readonly Lazy<ByteLevelBpeTokenizer> Tokenizer = new(() =>
        new ByteLevelBpeTokenizer(Path.Combine(TestPaths.Gpt2Vocabulary, "vocab.json"), Path.Combine(TestPaths.Gpt2Vocabulary, "merges.txt")));

    public static TheoryData<string, int[]> ReferenceCases()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, "gpt2-bpe-reference.json")));
        var data = new TheoryData<string, int[]>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray());
        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void MatchesTheJavaScriptEncoder(string text, int[] expected)
    {
        Assert.Equal(expected, Tokenizer.Value.Encode(text));
        Assert.Equal(text, Tokenizer.Value.Decode(expected));
    }

    [Fact]
    public void Gpt2sVocabularyFilesHaveTheHuggingFaceLayout()
    {
        string[] merges = File.ReadAllLines(Path.Combine(TestPaths.Gpt2Vocabulary, "merges.txt"));
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(50_001, merges.Length);
        Assert.Equal(["Ġ t", "Ġ a", "h e", "i n", "r e"], merges[1..6]);
        using var vocab = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.Gpt2Vocabulary, "vocab.json")));
        Assert.Equal(50_257, vocab.RootElement.EnumerateObject().Count());
        Assert.Equal(258, vocab.RootElement.GetProperty("he").GetInt32());
        Assert.Equal(50_256, vocab.RootElement.GetProperty("<|endoftext|>").GetInt32());
    }

    [Fact]
    public void KnowsGpt2sSpecialAndNameTokens()
    {
        Assert.Equal(50257, Tokenizer.Value.VocabSize);
        Assert.Equal(50256, Tokenizer.Value.BosId);
        Assert.Equal([5335], Tokenizer.Value.Encode(" Mary"));
        Assert.Equal([50256, 6423, 11], Tokenizer.Value.EncodeWithBos("Then,"));
    }
}

public class PreTokenizerTests
{
    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("it's they're I'M", new[] { "it", "'s", " they", "'re", " I", "'", "M" })]
    [InlineData("a  b", new[] { "a", " ", " b" })]
    [InlineData("a   \n\nb", new[] { "a", "   \n", "\n", "b" })]
    [InlineData("x \n", new[] { "x", " \n" })]
    [InlineData("abc123 45!!  ?", new[] { "abc", "123", " 45", "!!", " ", " ?" })]
    [InlineData(" ", new[] { " " })]
    [InlineData("\u00e9t\u00e9 \U0001D400\U0001D401 \U0001F389!", new[] { "\u00e9t\u00e9", " \U0001D400\U0001D401", " \U0001F389!" })]
    public void SplitsLikeGpt2sRegex(string text, string[] expected) => Assert.Equal(expected, Gpt2Pretokenization.Split(text));
}

public class WordLevelTokenizerTests
{
    [Fact]
    public void EncodesKnownWordsAndNamesUnknownOnes()
    {
        var tokenizer = new WordLevelTokenizer(Path.Combine(TestPaths.TinyModel, "vocab.json"));
        int[] ids = tokenizer.Encode("Then, Mary and John went to the store.");
        Assert.Equal([1, 2, 16, 4, 17, 5, 6, 7, 8, 3], ids);
        Assert.Equal("Then, Mary and John went to the store.", tokenizer.Decode(ids));
        Assert.Equal(0, tokenizer.BosId);
        var e = Assert.Throws<InvalidInputException>(() => tokenizer.Encode("Then, Zed"));
        Assert.Contains("' Zed'", e.Message);
        Assert.Contains("vocab.json", e.Message);
    }

    [Fact]
    public void VocabularyWithoutEndOfTextIsRejected()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0, \"b\": 1}");
        var e = Assert.Throws<InvalidInputException>(() => new WordLevelTokenizer(dir.File("vocab.json")));
        Assert.Contains("<|endoftext|>", e.Message);
    }

    [Fact]
    public void LoaderPicksBpeOnlyWhenMergesExist()
    {
        Assert.IsType<WordLevelTokenizer>(TokenizerLoader.Load(TestPaths.TinyModel));
        Assert.IsType<ByteLevelBpeTokenizer>(TokenizerLoader.Load(TestPaths.Gpt2Vocabulary));
    }
}
