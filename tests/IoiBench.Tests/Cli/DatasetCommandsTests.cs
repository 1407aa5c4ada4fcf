using System.Text.Json;
using IoiBench.Sites;

namespace IoiBench.Tests.Cli;

/// <summary>The dataset-level commands on the tiny random model and its prompt lists.</summary>
[Collection(WarningsCollection.Name)]
public class DatasetCommandsTests
{
    private static readonly string[] Dataset = ["--prompts", TinyDataset.PromptsDirectory, "--train", "60", "--validation", "12", "--test", "30", "--seed", "3"];

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void PromptsPrintsEveryExampleWithPositionsAnswersAndCounterfactuals()
    {
        var (code, output, _) = Run(["prompts", "--model", TestPaths.TinyModel, "--split", "test", "--format", "json", .. Dataset]);
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(30, lines.Count);
        var expected = TinyDataset.Generate().Test;
        for (int i = 0; i < lines.Count; i++)
        {
            Assert.Equal(expected[i].Clean.Prompt.Text, lines[i].GetProperty("text").GetString());
            Assert.Equal(expected[i].Clean.Positions.S1Plus1, lines[i].GetProperty("positions").GetProperty("s1+1").GetInt32());
            Assert.Equal(expected[i].Clean.IoToken, lines[i].GetProperty("answer").GetProperty("io").GetInt32());
            Assert.Equal(expected[i].CounterfactualPos.Prompt.Text, lines[i].GetProperty("counterfactuals").GetProperty("pos").GetProperty("text").GetString());
        }
    }

    [Fact]
    public void IoiEvalReportsTheIssueKeysAndAblationDrops()
    {
        var (code, output, _) = Run(["ioi", "eval", "--model", TestPaths.TinyModel, "--format", "json", .. Dataset]);
        Assert.Equal(0, code);
        var clean = JsonDocument.Parse(output).RootElement;
        Assert.Equal(30, clean.GetProperty("n_prompts").GetInt32());
        foreach (string key in new[] { "accuracy", "top1_accuracy", "logit_diff" }) Assert.Equal(JsonValueKind.Number, clean.GetProperty(key).ValueKind);

        (code, output, _) = Run(["ioi", "eval", "--model", TestPaths.TinyModel, "--format", "json", "--ablate", "0.1,1.2", .. Dataset]);
        Assert.Equal(0, code);
        var ablated = JsonDocument.Parse(output).RootElement;
        Assert.Equal(["0.1", "1.2"], ablated.GetProperty("ablated_heads").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(clean.GetProperty("logit_diff").GetDouble(), ablated.GetProperty("clean_logit_diff").GetDouble(), 6);
        Approx.Equal(ablated.GetProperty("clean_logit_diff").GetDouble() - ablated.GetProperty("logit_diff").GetDouble(), ablated.GetProperty("logit_diff_drop").GetDouble());

        (code, _, string error) = Run(["ioi", "eval", "--model", TestPaths.TinyModel, "--ablate", "7.0", .. Dataset]);
        Assert.Equal(2, code);
        Assert.Contains("head 7.0 is outside the model", error);
    }

    [Fact]
    public void CircuitWritesALoadableSitesFileAndPlot()
    {
        using var dir = new TestPaths.TempDirectory();
        var (code, output, _) = Run(["circuit", "--model", TestPaths.TinyModel, "--count", "12", "--output", dir.File("sites.yaml"), "--plot", dir.File("circuit.svg"), .. Dataset]);
        Assert.Equal(0, code);
        Assert.Contains("wrote", output);
        var sites = SitesFile.Load(dir.File("sites.yaml"));
        Assert.Equal("tiny-gpt2", sites.Model);
        Assert.StartsWith("<svg", File.ReadAllText(dir.File("circuit.svg")));
        Assert.Contains(">1.3<", File.ReadAllText(dir.File("circuit.svg")));
    }

    [Fact]
    public void ExtractCachesItsResult()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end, q@1.0@end]\ncross_sections:\n  - name: a\n    attribute: io\n    nodes: [z@1.1@end]\n");
        string[] args = ["extract", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--cache", dir.Path, .. Dataset];
        var first = Run(args);
        Assert.Equal(0, first.Code);
        Assert.StartsWith("extracted: 2 nodes × 30 prompts", first.Out);
        var second = Run(args);
        Assert.StartsWith("cache hit: 2 nodes × 30 prompts", second.Out);
    }

    [Fact]
    public void DictionariesReportEveryNodesReconstructionQuality()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end, k@0.2@s1]\ncross_sections:\n  - name: a\n    attribute: io\n    nodes: [z@1.1@end]\n");
        var (code, output, _) = Run(["dictionaries", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--cache", dir.Path, "--format", "json", .. Dataset]);
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["z@1.1@end", "k@0.2@s1"], lines.Select(l => l.GetProperty("node").GetString()));
        foreach (var line in lines)
        {
            Assert.InRange(line.GetProperty("cosine").GetDouble(), -1, 1);
            Assert.True(line.GetProperty("mse").GetDouble() >= 0);
            var weights = line.GetProperty("mean_weight");
            Approx.Equal(1.0, weights.GetProperty("io").GetDouble() + weights.GetProperty("s").GetDouble() + weights.GetProperty("pos").GetDouble());
        }
    }
}
