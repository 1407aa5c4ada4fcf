using System.Text.Json;
using IoiBench.Activations;
using IoiBench.Behaviour;
using IoiBench.Edits;
using IoiBench.Sites;

namespace IoiBench.Tests.Cli;

/// <summary>A miniature end-to-end run: the tiny model, 60/12/30 prompts, two cross-sections, a 3-epoch preset.</summary>
[Collection(GemmThreadsCollection.Name)]
public class RunCommandTests
{
    private const string Sites = "model: tiny\nnodes: [z@1.1@end, q@1.0@end, k@0.2@s1]\ncross_sections:\n" +
                                 "  - name: io-out\n    label: IO in z\n    attribute: io\n    nodes: [z@1.1@end]\n" +
                                 "  - name: pos-qk\n    label: Pos in q and k\n    attribute: pos\n    nodes: [q@1.0@end, k@0.2@s1]\n";

    private const string Preset = "width: 16\nbatch_size: 16\nepochs: 3\nlearning_rate: 0.001\ncheckpoints: [1, 3]\nvariants:\n  gated:\n    l1: [1]\n  topk:\n    k: [2]\n";

    [Fact]
    public void ARunWritesTheLeaderboardRunJsonAndCsvsAndResumes()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), Sites);
        File.WriteAllText(dir.File("preset.yaml"), Preset);
        string[] args = ["run", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--prompts", TinyDataset.PromptsDirectory,
            "--train", "60", "--validation", "12", "--test", "30", "--seed", "3", "--preset", dir.File("preset.yaml"),
            "--output", dir.File("run"), "--cache", dir.Path];
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        Assert.Contains("leaderboard.md", output);

        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("run/run.json")));
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.Equal(3ul, root.GetProperty("provenance").GetProperty("seed").GetUInt64());
        var edits = root.GetProperty("edits").EnumerateArray().ToList();
        // Per cross-section: none, counterfactual patch, supervised, and agnostic + aware for each of the two variants.
        Assert.Equal(2 * 7, edits.Count);
        foreach (var patch in edits.Where(e => e.GetProperty("method").GetString() == "counterfactual patch"))
            Assert.Equal(1.0, patch.GetProperty("edit_accuracy").GetProperty("mean").GetDouble());
        Assert.All(edits.Where(e => e.GetProperty("method").GetString() == "none"),
            e => Assert.Equal(0.0, e.GetProperty("weight_removed").GetProperty("mean").GetDouble()));
        // One selection per node, attribute and variant, among the checkpoints (epoch 1) and the final SAEs (epoch 3).
        var selections = root.GetProperty("selections").EnumerateArray().ToList();
        Assert.Equal(3 * 2, selections.Count);
        Assert.All(selections, s => Assert.Contains(s.GetProperty("epoch").GetInt32(), new[] { 1, 3 }));
        Assert.All(selections, s => Assert.Equal(2, s.GetProperty("candidates").GetInt32()));
        Assert.All(selections, s => Assert.True(s.GetProperty("ld_recovered").GetDouble() >= 0));
        // Two candidates: a rank correlation is ±1 (or undefined when the two tie).
        Assert.All(selections, s => Assert.True(s.GetProperty("spearman_distance_l0").ValueKind == JsonValueKind.Null
                                                || Math.Abs(Math.Abs(s.GetProperty("spearman_distance_l0").GetDouble()) - 1) < 1e-12));

        string leaderboard = File.ReadAllText(dir.File("run/leaderboard.md"));
        Assert.Contains("## IO in z (io-out, attribute IO)", leaderboard);
        Assert.Contains("| supervised | - |", leaderboard);
        Assert.Equal(1 + 2 * 7, File.ReadAllLines(dir.File("run/edits.csv")).Length);

        Assert.Contains("<svg", File.ReadAllText(dir.File("run/report.html")));

        // Two runs merged: every row of each, tagged with its run.
        var (mergedCode, merged, _) = CliRunner.Run("leaderboard", dir.File("run"), dir.File("run/run.json"));
        Assert.Equal(0, mergedCode);
        Assert.Equal(2 * 2 * 7, merged.Split('\n').Count(l => l.StartsWith("| tiny-gpt2-preset |")));
        var (badCode, _, badError) = CliRunner.Run("leaderboard", dir.File("nowhere"));
        Assert.Equal(2, badCode);
        Assert.Contains("nowhere", badError);

        // Run again: the SAEs are read back, and the results are the same.
        string before = File.ReadAllText(dir.File("run/edits.csv"));
        Assert.Equal(0, CliRunner.Run(args).Code);
        Assert.Equal(before, File.ReadAllText(dir.File("run/edits.csv")));
    }

    [Fact]
    public void PatchingTheCleanActivationsBackChangesNothing()
    {
        // The patch writes each node's row at that node's position in the base prompt: writing the clean values back
        // must reproduce the clean run exactly.
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        var nodes = new[] { SiteNode.Parse("z@1.1@end"), SiteNode.Parse("k@0.2@s1") };
        var test = ActivationExtractor.Extract(model, dataset.Test, nodes);
        var prompts = dataset.Test.Select(e => e.Clean).ToList();
        var clean = PromptRunner.Score(model, prompts);
        var patched = PatchedRun.Score(model, prompts, nodes.ToDictionary(n => n, n => test.Get(n, PromptVariant.Clean)));
        Assert.Equal(clean.Select(s => s.LogitDiff), patched.Select(s => s.LogitDiff));
        // And writing the counterfactual values changes something.
        var cf = PatchedRun.Score(model, prompts, nodes.ToDictionary(n => n, n => test.Get(n, PromptVariant.CounterfactualIo)));
        Assert.NotEqual(clean.Select(s => s.LogitDiff), cf.Select(s => s.LogitDiff));
    }
}
