using System.Text.Json;
using IoiBench.Model;

namespace IoiBench.Tests.Cli;

[Collection(WarningsCollection.Name)]
public class CliTests
{
    private static readonly string Model = TestPaths.TinyModel;

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static List<JsonElement> JsonLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

    [Fact]
    public void TokenizeReadsOneJsonStringPerLine()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllLines(dir.File("texts.jsonl"), ["\"Hello world\"", "", "\"line one\\nline two\""]);
        var (code, output, _) = Run("tokenize", "--model", TestPaths.Gpt2Vocabulary, "--input", dir.File("texts.jsonl"), "--format", "json");
        Assert.Equal(0, code);
        var lines = JsonLines(output);
        Assert.Equal(2, lines.Count);
        Assert.Equal([15496, 995], lines[0].GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([1370, 530, 198, 1370, 734], lines[1].GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Fact]
    public void LogitsPrintsTheTopTokensAndLogSumExpOfTheLastPosition()
    {
        const string prompt = "Then, Mary and John went to the store. John gave a drink to";
        var (code, output, _) = Run("logits", "--model", Model, "--prompt", prompt, "--top", "3", "--format", "json");
        Assert.Equal(0, code);
        var line = Assert.Single(JsonLines(output));

        var loaded = ModelDirectory.Load(Model, processed: false);
        int[] ids = [loaded.Tokenizer.BosId, .. loaded.Tokenizer.Encode(prompt)];
        var logits = loaded.Model.Forward(TokenBatch.FromSequences([ids]), [ids.Length - 1]).Span.ToArray();
        int best = Array.IndexOf(logits, logits.Max());
        double logSumExp = logits.Max() + Math.Log(logits.Sum(x => Math.Exp(x - logits.Max())));

        Assert.Equal(ids, line.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        var top = line.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        Assert.Equal(best, top[0].GetProperty("id").GetInt32());
        Assert.Equal(loaded.Tokenizer.Decode([best]), top[0].GetProperty("token").GetString());
        Assert.Equal(logits[best], top[0].GetProperty("logit").GetSingle());
        Assert.True(top[0].GetProperty("logit").GetSingle() >= top[1].GetProperty("logit").GetSingle());
        Assert.Equal(logSumExp, line.GetProperty("logsumexp").GetDouble(), 4);
    }

    [Fact]
    public void ActivationsPrintsEveryHeadInTheRequestedBasis()
    {
        string[] args = ["activations", "--model", Model, "--prompt", "Then, Mary and John", "--hook", "z", "--position", "-1", "--format", "json"];
        var raw = Assert.Single(JsonLines(Run(args).Out)).GetProperty("activations");
        var processed = Assert.Single(JsonLines(Run([.. args, "--processed"]).Out)).GetProperty("activations");

        var loaded = ModelDirectory.Load(Model, processed: false);
        var cfg = loaded.Model.Config;
        Assert.Equal(cfg.NLayer * cfg.NHead, raw.EnumerateObject().Count());
        int[] ids = [loaded.Tokenizer.BosId, .. loaded.Tokenizer.Encode("Then, Mary and John")];
        var hooks = new HookSet();
        var capture = hooks.Capture(new HeadHook(HookPoint.Z, 1, 2), [ids.Length - 1]);
        loaded.Model.Forward(TokenBatch.FromSequences([ids]), [ids.Length - 1], hooks);

        Assert.Equal(capture.Values, raw.GetProperty("1.2").EnumerateArray().Select(x => x.GetSingle()));
        Assert.Equal(cfg.DHead, processed.GetProperty("1.2").GetArrayLength());
        Assert.NotEqual(raw.GetProperty("1.2").GetRawText(), processed.GetProperty("1.2").GetRawText());
    }

    [Theory]
    [InlineData("activations", "--model", "{model}", "--prompt", "Then", "--hook", "w", "--position", "0")]
    [InlineData("activations", "--model", "{model}", "--prompt", "Then", "--hook", "z", "--position", "7")]
    [InlineData("activations", "--model", "{model}", "--prompt", "Then", "--hook", "z", "--position", "-3")]
    [InlineData("logits", "--model", "/nonexistent/model", "--prompt", "Then")]
    [InlineData("logits", "--model", "{model}")]
    [InlineData("logits", "--model", "{model}", "--prompt", "Then", "--input", "texts.jsonl")]
    [InlineData("logits", "--prompt", "Then")]
    [InlineData("logits", "--model", "{model}", "--prompt", "Then Zed")]
    [InlineData("tokenize", "--model", "{model}", "--input", "/nonexistent/texts.jsonl")]
    public void BadArgumentsPrintOneLineAndExitWithTwo(params string[] args)
    {
        var (code, output, error) = Run(args.Select(a => a.Replace("{model}", Model)).ToArray());
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ioibench: ", error);
    }
}
