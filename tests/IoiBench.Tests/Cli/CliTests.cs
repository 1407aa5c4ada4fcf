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
        var (code, output, _) = Run("tokenize", "--model", TestPaths.Gpt2Vocabulary, "--input", dir.File("texts.jsonl"), "--prepend-bos", "false",
            "--format", "json");
        Assert.Equal(0, code);
        var lines = JsonLines(output);
        Assert.Equal(2, lines.Count);
        Assert.Equal([15496, 995], lines[0].GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([1370, 530, 198, 1370, 734], lines[1].GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));

        // TransformerLens's default: BOS first.
        var withBos = Assert.Single(JsonLines(Run("tokenize", "--model", TestPaths.Gpt2Vocabulary, "--text", "Hello world", "--format", "json").Out));
        Assert.Equal([50256, 15496, 995], withBos.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Fact]
    public void LogitsPrintsTheTopTokensAndLogSumExpOfTheLastPosition()
    {
        const string prompt = "Then, Mary and John went to the store. John gave a drink to";
        var (code, output, _) = Run("logits", "--model", Model, "--prompt", prompt, "--top", "3", "--format", "json");
        Assert.Equal(0, code);
        var line = Assert.Single(JsonLines(output));

        var loaded = ModelDirectory.Load(Model, ModelBasis.Raw);
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
        var processed = Assert.Single(JsonLines(Run([.. args, "--basis", "processed"]).Out)).GetProperty("activations");

        var loaded = ModelDirectory.Load(Model, ModelBasis.Raw);
        var cfg = loaded.Model.Config;
        Assert.Equal(cfg.NLayer * cfg.NHead, raw.EnumerateObject().Count());
        int[] ids = [loaded.Tokenizer.BosId, .. loaded.Tokenizer.Encode("Then, Mary and John")];
        var hooks = new HookSet();
        var capture = hooks.Capture(new HeadHook(HookPoint.Z, 1, 2), [ids.Length - 1]);
        loaded.Model.Forward(TokenBatch.FromSequences([ids]), [ids.Length - 1], hooks);

        Assert.Equal(capture.Values, raw.GetProperty("1.2").EnumerateArray().Select(x => x.GetSingle()));
        Assert.Equal(cfg.DHead, processed.GetProperty("1.2").GetArrayLength());
        Assert.NotEqual(raw.GetProperty("1.2").GetRawText(), processed.GetProperty("1.2").GetRawText());

        // Without BOS the prompt's tokens alone run: Hugging Face's plain GPT-2 input.
        var plain = Assert.Single(JsonLines(Run([.. args, "--prepend-bos", "false"]).Out));
        int[] plainIds = loaded.Tokenizer.Encode("Then, Mary and John");
        Assert.Equal(plainIds, plain.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        var plainHooks = new HookSet();
        var plainCapture = plainHooks.Capture(new HeadHook(HookPoint.Z, 1, 2), [plainIds.Length - 1]);
        loaded.Model.Forward(TokenBatch.FromSequences([plainIds]), [plainIds.Length - 1], plainHooks);
        Assert.Equal(plainCapture.Values, plain.GetProperty("activations").GetProperty("1.2").EnumerateArray().Select(x => x.GetSingle()));
    }

    /// <summary>One convention: every command that runs a model (not only its tokenizer) takes --basis and --device.</summary>
    [Fact]
    public void EveryCommandThatRunsAModelTakesTheSameModelBasisAndDeviceOptions()
    {
        var commands = IoiBench.Cli.Program.CreateRoot(TextWriter.Null, TextWriter.Null).Subcommands.SelectMany(c => c.Subcommands.Count > 0 ? c.Subcommands : [c]).ToList();
        var withModel = commands.Where(c => c.Options.Any(o => o.Name == "--model")).ToList();
        Assert.Contains(withModel, c => c.Name == "eval");
        foreach (var command in withModel.Where(c => c.Name is not ("tokenize" or "prompts")))
        {
            Assert.Contains(command.Options, o => o.Name == "--basis");
            Assert.Contains(command.Options, o => o.Name == "--device");
        }
        foreach (var command in withModel.Where(c => c.Name is "tokenize" or "logits" or "activations"))
            Assert.Contains(command.Options, o => o.Name == "--prepend-bos");
        Assert.All(commands.SelectMany(c => c.Options), o => Assert.DoesNotContain("processed", o.Name));
    }

    [Theory]
    [InlineData("activations", "--model", "{model}", "--prompt", "Then", "--hook", "w", "--position", "0")]
    [InlineData("activations", "--model", "{model}", "--prompt", "Then", "--hook", "z", "--position", "7")]
    [InlineData("activations", "--model", "{model}", "--prompt", "Then", "--hook", "z", "--position", "-3")]
    [InlineData("logits", "--model", "/nonexistent/model", "--prompt", "Then")]
    [InlineData("logits", "--model", "{model}")]
    [InlineData("logits", "--model", "{model}", "--prompt", "Then", "--input", "texts.jsonl")]
    [InlineData("logits", "--prompt", "Then", "--top", "0")]
    [InlineData("logits", "--prompt", "Then", "--basis", "folded")]
    [InlineData("logits", "--prompt", "", "--prepend-bos", "false")]
    [InlineData("ioi", "eval", "--test", "-1")]
    [InlineData("bench-forward", "--batch", "0")]
    [InlineData("synth", "--active", "0")]
    [InlineData("circuit", "--output", "{installed}/models/ioi-tiny/sites.yaml")]
    [InlineData("logits", "--model", "{model}", "--prompt", "Then Zed")]
    [InlineData("tokenize", "--model", "{model}", "--input", "/nonexistent/texts.jsonl")]
    public void BadArgumentsPrintOneLineAndExitWithTwo(params string[] args)
    {
        var (code, output, error) = Run(args.Select(a => a.Replace("{model}", Model).Replace("{installed}", AppContext.BaseDirectory)).ToArray());
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ioibench: ", error);
    }
}
