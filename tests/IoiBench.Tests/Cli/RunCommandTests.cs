using System.Text.Json;
using IoiBench.Reports;
using IoiBench.Activations;
using IoiBench.Behaviour;
using IoiBench.Edits;
using IoiBench.Runs;
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
        Assert.Equal(RunJson.SchemaVersion, root.GetProperty("schema_version").GetInt32());
        Assert.Equal(3ul, root.GetProperty("provenance").GetProperty("seed").GetUInt64());
        var edits = root.GetProperty("edits").EnumerateArray().ToList();
        // Per cross-section: none, counterfactual patch, supervised, the six subspace baselines, and agnostic + aware
        // for each of the two variants.
        Assert.Equal(2 * 13, edits.Count);
        string[] baselines = ["diffmean", "pca", "pca-diff", "probe", "random", "das"];
        Assert.All(baselines, b => Assert.Equal(2, edits.Count(e => e.GetProperty("method").GetString() == b)));
        Assert.All(edits.Where(e => baselines.Contains(e.GetProperty("method").GetString())),
            e => Assert.InRange(e.GetProperty("weight_removed").GetProperty("mean").GetDouble(), 0, 1));
        foreach (var patch in edits.Where(e => e.GetProperty("method").GetString() == "counterfactual patch"))
            Assert.Equal(1.0, patch.GetProperty("edit_accuracy").GetProperty("mean").GetDouble());
        Assert.All(edits.Where(e => e.GetProperty("method").GetString() == "none"),
            e => Assert.Equal(0.0, e.GetProperty("weight_removed").GetProperty("mean").GetDouble()));
        // The sites file's cross-sections, with their nodes, for the report's map of the circuit.
        Assert.Equal([1, 2], root.GetProperty("cross_sections").EnumerateArray().Select(c => c.GetProperty("nodes").GetArrayLength()));
        // The supervised dictionary at each of the 3 nodes: its three attribute weights sum to 1 on every prompt.
        var dictionaries = root.GetProperty("supervised_dictionaries").EnumerateArray().ToList();
        Assert.Equal(3, dictionaries.Count);
        Assert.All(dictionaries, d => Assert.Equal(1.0, d.GetProperty("io_weight").GetDouble() + d.GetProperty("s_weight").GetDouble()
                                                        + d.GetProperty("pos_weight").GetDouble(), 6));
        Assert.All(dictionaries, d => Assert.InRange(d.GetProperty("relative_error").GetDouble(), 0, 2));
        // DAS trained at each cross-section on the first 48 of the 60 train prompts, stopped early on the last 12.
        var das = root.GetProperty("das_training").EnumerateArray().ToList();
        Assert.Equal(["io-out", "pos-qk"], das.Select(d => d.GetProperty("cross_section").GetString()));
        Assert.All(das, d => Assert.Equal((48, 12, 2), (d.GetProperty("train_prompts").GetInt32(),
            d.GetProperty("validation_prompts").GetInt32(), d.GetProperty("dimensions").GetInt32())));
        Assert.All(das, d => Assert.True(d.GetProperty("validation_loss").GetDouble() <= d.GetProperty("initial_validation_loss").GetDouble()));
        Assert.All(das, d => Assert.Equal(60L * d.GetProperty("epochs").GetInt32(), d.GetProperty("prompt_passes").GetInt64()));
        // One selection per node, attribute and variant, among the checkpoints (epoch 1) and the final SAEs (epoch 3):
        // the probes select an SAE for every attribute at every node.
        var selections = root.GetProperty("selections").EnumerateArray().ToList();
        Assert.Equal(3 * 3 * 2, selections.Count);
        Assert.All(selections, s => Assert.Contains(s.GetProperty("epoch").GetInt32(), new[] { 1, 3 }));
        Assert.All(selections, s => Assert.Equal(2, s.GetProperty("candidates").GetInt32()));
        Assert.All(selections, s => Assert.True(s.GetProperty("ld_recovered").GetDouble() >= 0));
        // Two candidates: a rank correlation is ±1 (or undefined when the two tie).
        Assert.All(selections, s => Assert.True(s.GetProperty("spearman_distance_l0").ValueKind == JsonValueKind.Null
                                                || Math.Abs(Math.Abs(s.GetProperty("spearman_distance_l0").GetDouble()) - 1) < 1e-12));

        // Error pathology: the supervised reconstruction and both variants, at each of the 3 nodes and on each
        // cross-section (the one-node cross-section is its node).
        var pathology = root.GetProperty("pathology").EnumerateArray().ToList();
        Assert.Equal(3 * 3 + 2 * 3, pathology.Count);
        Assert.All(pathology, p => Assert.True(p.GetProperty("kl_reconstruction").GetProperty("mean").GetDouble() >= 0));
        Assert.All(pathology, p => Assert.Equal(30, p.GetProperty("kl_random").GetProperty("n").GetInt32()));
        // Probes: per scope raw and supervised (all features and k = 1, 2, 4, 16), and each variant's latents (the four k);
        // scopes: 3 nodes × 3 attributes and the 2 cross-sections.
        var probes = root.GetProperty("probes").EnumerateArray().ToList();
        Assert.Equal((3 * 3 + 2) * (2 * 5 + 2 * 4), probes.Count);
        Assert.All(probes.Where(p => p.GetProperty("k").ValueKind == JsonValueKind.Number),
            p => Assert.Equal(p.GetProperty("features").GetInt32(), p.GetProperty("chosen").GetArrayLength()));
        Assert.All(probes, p => Assert.InRange(p.GetProperty("test_accuracy").GetProperty("mean").GetDouble(), 0, 1));
        // Pos has two values; the probe on the two-node cross-section's 16 best latents reads it from both nodes' latents.
        var posProbe = probes.Single(p => p.GetProperty("scope").GetString() == "pos-qk" && p.GetProperty("method").GetString() == "topk"
                                          && p.GetProperty("k").ValueKind == JsonValueKind.Number && p.GetProperty("k").GetInt32() == 16);
        Assert.Equal(2, posProbe.GetProperty("classes").GetInt32());
        Assert.Equal(16, posProbe.GetProperty("features").GetInt32());
        // Feature recovery: both variants, every value of the cross-section's attribute seen in train, at each node and
        // on each cross-section, whose rows are the means of its nodes'.
        var recovery = root.GetProperty("recovery").EnumerateArray().ToList();
        List<JsonElement> RecoveryOf(string kind, string scope) =>
            [.. recovery.Where(r => r.GetProperty("scope_kind").GetString() == kind && r.GetProperty("scope").GetString() == scope)];
        Assert.Equal(2 * 2, RecoveryOf("cross_section", "pos-qk").Count);
        Assert.All(recovery, r => Assert.InRange(r.GetProperty("best_f1").GetDouble(), 0, 1));
        foreach (var row in RecoveryOf("cross_section", "pos-qk"))
        {
            double NodeValue(string node, string metric) => RecoveryOf("node", node).Single(r =>
                r.GetProperty("variant").GetString() == row.GetProperty("variant").GetString() &&
                r.GetProperty("value").GetString() == row.GetProperty("value").GetString()).GetProperty(metric).GetDouble();
            foreach (string metric in new[] { "best_f1", "latents_f1_over_half", "max_cosine" })
                Assert.Equal((NodeValue("q@1.0@end", metric) + NodeValue("k@0.2@s1", metric)) / 2, row.GetProperty(metric).GetDouble(), 12);
        }
        Assert.Equal(RecoveryOf("node", "z@1.1@end").Select(r => r.GetProperty("best_f1").GetDouble()),
            RecoveryOf("cross_section", "io-out").Select(r => r.GetProperty("best_f1").GetDouble()));
        // Each node of the two-node cross-section edited alone: the counterfactual patch, the supervised edit and both
        // variants' two edits; the one-node cross-section has none.
        var nodeEdits = root.GetProperty("node_edits").EnumerateArray().ToList();
        Assert.Equal(2 * (2 + 2 * 2), nodeEdits.Count);
        Assert.All(nodeEdits, e => Assert.Equal("pos-qk", e.GetProperty("cross_section").GetString()));
        Assert.All(nodeEdits, e => Assert.InRange(e.GetProperty("edit_accuracy").GetProperty("mean").GetDouble(), 0, 1));
        Assert.All(nodeEdits.Where(e => e.GetProperty("method").GetString() == "counterfactual patch"),
            e => Assert.Equal(JsonValueKind.Null, e.GetProperty("weight_removed").GetProperty("mean").ValueKind));
        // The supervised edit's weight removed over the cross-section is the mean of its nodes' alone.
        double SupervisedWeight(JsonElement e) => e.GetProperty("weight_removed").GetProperty("mean").GetDouble();
        Assert.Equal(nodeEdits.Where(e => e.GetProperty("method").GetString() == "supervised").Average(SupervisedWeight),
            SupervisedWeight(edits.Single(e => e.GetProperty("cross_section").GetString() == "pos-qk" && e.GetProperty("method").GetString() == "supervised")),
            9);

        string leaderboard = File.ReadAllText(dir.File("run/leaderboard.md"));
        Assert.Contains("## IO in z (io-out, attribute IO)", leaderboard);
        Assert.Contains("| method | variant | edit accuracy | weight removed | logit diff | IOI accuracy | KL ratio |", leaderboard);
        Assert.Contains("| supervised | - |", leaderboard);
        Assert.Contains("## Where each attribute is decodable", leaderboard);
        Assert.Equal(1 + 2 * 13, File.ReadAllLines(dir.File("run/edits.csv")).Length);
        Assert.Equal(1 + probes.Count, File.ReadAllLines(dir.File("run/probes.csv")).Length);
        Assert.Equal(1 + pathology.Count, File.ReadAllLines(dir.File("run/pathology.csv")).Length);

        string report = File.ReadAllText(dir.File("run/report.html"));
        Assert.Contains("<svg", report);
        Assert.Contains("Error pathology", report);
        Assert.Contains("Sparse probing", report);
        Assert.Contains("Feature recovery", report);
        Assert.Contains("<h2 id=\"sec-Circuit\">", report);
        Assert.Contains("<tr id=\"site-z-1-1-end\">", report);
        Assert.Contains("<h3 id=\"node-q-1-0-end\">", report);
        Assert.Contains("q@1.0@end: best latent&apos;s F1 per POS value", report);
        Assert.Contains("Pos in q and k: edit accuracy with one node edited alone", report);
        Assert.Contains("IO in z: accuracy against weight removed", report);
        Assert.Contains("DAS (n = 2): ", report);

        // run.json reads back into the same results: writing them again gives the same file, and `report` rewrites
        // the reports from it with other columns.
        string runJson = File.ReadAllText(dir.File("run/run.json"));
        Assert.Equal(runJson, RunJson.Write(RunJson.Read(dir.File("run"))));
        Assert.Equal("cpu", RunJson.Read(dir.File("run")).Provenance.SaeTraining);
        Assert.Contains("SAEs trained on cpu", leaderboard);
        // A run.json from before the SAEs' device was recorded still reads, as "unknown".
        File.WriteAllText(dir.File("old.json"), runJson.Replace("\"sae_training\": \"cpu\",", ""));
        Assert.Equal("unknown", RunJson.Read(dir.File("old.json")).Provenance.SaeTraining);
        // A run.json of schema 4 kept the cross-sections' recovery rows only, under "cross_section".
        var old = System.Text.Json.Nodes.JsonNode.Parse(runJson)!;
        old["schema_version"] = 4;
        var oldRecovery = new System.Text.Json.Nodes.JsonArray([.. old["recovery"]!.AsArray()
            .Where(r => (string)r!["scope_kind"]! == "cross_section")
            .Select(r => new System.Text.Json.Nodes.JsonObject
            {
                ["cross_section"] = (string)r!["scope"]!, ["attribute"] = (string)r["attribute"]!, ["variant"] = (string)r["variant"]!,
                ["value"] = (string)r["value"]!, ["best_f1"] = (double)r["best_f1"]!, ["latents_f1_over_half"] = (double)r["latents_f1_over_half"]!,
                ["max_cosine"] = (double)r["max_cosine"]!,
            })]);
        old["recovery"] = oldRecovery;
        File.WriteAllText(dir.File("v4.json"), old.ToJsonString());
        var v4 = RunJson.Read(dir.File("v4.json"));
        Assert.Equal(oldRecovery.Count, v4.Recovery.Count);
        Assert.All(v4.Recovery, r => Assert.Equal(ScopeKind.CrossSection, r.Kind));
        Assert.Equal(RecoveryOf("cross_section", "pos-qk").Count, v4.CrossSectionRecovery("pos-qk", "gated").Count * 2);
        string probesCsv = File.ReadAllText(dir.File("run/probes.csv"));
        Assert.Equal(0, CliRunner.Run("report", dir.File("run"), "--columns", "edit_accuracy,splitting").Code);
        Assert.Contains("| method | variant | edit accuracy | latents F1≥0.5 |", File.ReadAllText(dir.File("run/leaderboard.md")));
        Assert.Equal(runJson, File.ReadAllText(dir.File("run/run.json")));
        Assert.Equal(probesCsv, File.ReadAllText(dir.File("run/probes.csv")));

        // Two runs merged: every row of each, tagged with its run; columns chosen on the command line.
        var (mergedCode, merged, _) = CliRunner.Run("leaderboard", dir.File("run"), dir.File("run/run.json"), "--columns", "edit_accuracy,kl_ratio,probe@4");
        Assert.Equal(0, mergedCode);
        Assert.Equal(2 * 2 * 13, merged.Split('\n').Count(l => l.StartsWith("| tiny-gpt2-preset |")));
        Assert.Contains("| run | method | variant | edit accuracy | KL ratio | probe k=4 |", merged);
        var (badCode, _, badError) = CliRunner.Run("leaderboard", dir.File("nowhere"));
        Assert.Equal(2, badCode);
        Assert.Contains("nowhere", badError);
        var (badCountCode, _, badCountError) = CliRunner.Run([.. args, "--probe-train", "0"]);
        Assert.Equal(2, badCountCode);
        Assert.Contains("--probe-train must be at least 1", badCountError);
        var (badDimsCode, _, badDimsError) = CliRunner.Run([.. args, "--baseline-dims", "9"]);
        Assert.Equal(2, badDimsCode);
        Assert.Contains("--baseline-dims 9 is more than node", badDimsError);   // a head holds 8 values

        // One PCA direction is the first of the two: it holds at most their share of the activation.
        Assert.Equal(0, CliRunner.Run([.. args[..^4], "--output", dir.File("one-dim"), "--cache", dir.Path, "--baseline-dims", "1"]).Code);
        double Pca(string run, string section) => RunJson.Read(dir.File(run)).Edits
            .Single(e => e.CrossSection == section && e.Method == "pca").WeightRemoved.Mean;
        foreach (string section in new[] { "io-out", "pos-qk" })
            Assert.True(Pca("one-dim", section) <= Pca("run", section) + 1e-12, section);
        var (badColumnCode, _, badColumnError) = CliRunner.Run("leaderboard", dir.File("run"), "--columns", "edit_accuracy,nope");
        Assert.Equal(2, badColumnCode);
        Assert.Contains("unknown column 'nope'", badColumnError);
        Assert.Contains("kl_ratio", badColumnError);

        // Run again: the SAEs are read back, and the results are the same.
        string before = File.ReadAllText(dir.File("run/edits.csv"));
        Assert.Equal(0, CliRunner.Run(args).Code);
        Assert.Equal(before, File.ReadAllText(dir.File("run/edits.csv")));
    }

    [Fact]
    public void ARunWithSeveralSeedsKeepsTheFirstSeedsResultsAndReportsTheSpread()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), Sites);
        File.WriteAllText(dir.File("one.yaml"), Preset);
        File.WriteAllText(dir.File("two.yaml"), Preset.Replace("variants:", "seeds: [0, 1]\nvariants:"));
        string[] Args(string preset, string output) => ["run", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--prompts",
            TinyDataset.PromptsDirectory, "--train", "60", "--validation", "12", "--test", "30", "--seed", "3", "--preset", dir.File(preset),
            "--output", dir.File(output), "--cache", dir.Path];
        Assert.Equal(0, CliRunner.Run(Args("one.yaml", "one")).Code);
        var (code, _, error) = CliRunner.Run(Args("two.yaml", "two"));
        Assert.True(code == 0, error);

        // The leaderboard's rows are the first seed's: exactly those of the one-seed run.
        Assert.Equal(File.ReadAllText(dir.File("one/edits.csv")), File.ReadAllText(dir.File("two/edits.csv")));
        var run = RunJson.Read(dir.File("two"));
        Assert.Equal([0ul, 1ul], run.Seeds);
        // Seed 1: each variant's agnostic and aware edit on both cross-sections.
        Assert.Equal(2 * 2 * 2, run.SeedEdits.Count);
        Assert.All(run.SeedEdits, e => Assert.Equal(1ul, e.Seed));
        Assert.Equal(1 + 2 * run.SeedEdits.Count, File.ReadAllLines(dir.File("two/seeds.csv")).Length);
        Assert.Equal(2, SeedSpread.Stability(run).Count);
        string leaderboard = File.ReadAllText(dir.File("two/leaderboard.md"));
        Assert.Contains("edit acc sd (seeds)", leaderboard);
        Assert.Contains("across the 2 training seeds, the 4 SAE rows rank alike with Kendall's τ", leaderboard);
        Assert.Contains("Seed spread", File.ReadAllText(dir.File("two/report.html")));
        Assert.Equal(File.ReadAllText(dir.File("two/run.json")), RunJson.Write(run));
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
        var patched = PromptRunner.Score(model, prompts, PatchedRun.Patches(nodes.ToDictionary(n => n, n => test.Get(n, PromptVariant.Clean))));
        Assert.Equal(clean.Select(s => s.LogitDiff), patched.Select(s => s.LogitDiff));
        // And writing the counterfactual values changes something.
        var cf = PromptRunner.Score(model, prompts, PatchedRun.Patches(nodes.ToDictionary(n => n, n => test.Get(n, PromptVariant.CounterfactualIo))));
        Assert.NotEqual(clean.Select(s => s.LogitDiff), cf.Select(s => s.LogitDiff));
    }

    [Fact]
    public void NodesAndCrossSectionsAddedAtTheEndLeaveTheOthersRowsUnchanged()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), Sites);
        File.WriteAllText(dir.File("more.yaml"), Sites.Replace("k@0.2@s1]\ncross_sections:", "k@0.2@s1, resid_pre@1@end]\ncross_sections:") +
            "  - name: resid\n    label: IO in the residual stream\n    attribute: io\n    nodes: [resid_pre@1@end]\n");
        File.WriteAllText(dir.File("preset.yaml"), Preset);
        RunResults Run(string sites, string output)
        {
            var (code, _, error) = CliRunner.Run("run", "--model", TestPaths.TinyModel, "--sites", dir.File(sites), "--prompts",
                TinyDataset.PromptsDirectory, "--train", "60", "--validation", "12", "--test", "30", "--seed", "3", "--preset",
                dir.File("preset.yaml"), "--output", dir.File(output), "--cache", dir.Path, "--pathology-prompts", "10", "--probe-train", "30");
            Assert.True(code == 0, error);
            return RunJson.Read(dir.File(output));
        }

        var (before, after) = (Run("sites.yaml", "a"), Run("more.yaml", "b"));
        Assert.Equal(before.Edits, after.Edits.Where(e => e.CrossSection != "resid"));
        Assert.Contains(after.Edits, e => e.CrossSection == "resid" && e.Method == "agnostic");
        var kept = after.Selections.Where(s => s.Node.ToString() != "resid_pre@1@end").ToList();
        Assert.Equal(before.Selections.Select(s => s with { Directory = "", CandidateScores = [] }),
            kept.Select(s => s with { Directory = "", CandidateScores = [] }));
        Assert.Equal(before.Selections.SelectMany(s => s.CandidateScores), kept.SelectMany(s => s.CandidateScores));
    }
}
