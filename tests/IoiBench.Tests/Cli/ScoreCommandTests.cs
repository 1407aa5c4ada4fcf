using System.Text.Json;
using System.Text.Json.Nodes;
using IoiBench.Reports;
using IoiBench.Saes;
using IoiBench.Tests.Saes;
using static IoiBench.Tests.Saes.ExternalSaeFiles;

namespace IoiBench.Tests.Cli;

/// <summary>
/// <c>ioibench score</c> on SAE folders written as SAELens and sparsify write them, on the tiny model (d_model 32,
/// 4 heads of 8): planted SAEs whose scores are known exactly, IoiBench's own SAEs read back, and bad files.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class ScoreCommandTests
{
    private const int D = 32;

    private const string Sites = "model: tiny\n" +
        "nodes: [resid_pre@1@end, z@1@end, z@1.2@end, attn_out@1@end, mlp_out@0@end, resid_mid@0@s2, resid_post@0@end]\n" +
        "cross_sections:\n" +
        "  - name: resid\n    label: IO in the residual stream\n    attribute: io\n    nodes: [resid_pre@1@end]\n" +
        "  - name: heads\n    label: IO in layer 1's heads\n    attribute: io\n    nodes: [z@1@end]\n";

    private static string[] Score(TestPaths.TempDirectory dir, params string[] extra) =>
    [
        "score", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--prompts", TinyDataset.PromptsDirectory,
        "--train", "60", "--validation", "12", "--test", "30", "--seed", "3", "--output", dir.File("run"), "--cache", dir.Path,
        "--pathology-prompts", "10", "--probe-train", "30", .. extra,
    ];

    private static Dictionary<string, Tensor> PlantedStandard() => new()
    {
        ["W_enc"] = PlusMinusEncoder(D), ["b_enc"] = Filled(0, 2 * D), ["W_dec"] = PlusMinusDecoder(D), ["b_dec"] = Filled(0, D),
    };

    private static List<JsonElement> JsonLines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public void PlantedSaeLensSaesScoreExactlyAtEverySiteKind()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), Sites);
        string saes = dir.File("saes");
        // x = ReLU(x) − ReLU(−x): exact in F32, and in F16 and BF16, where 0 and ±1 are exact.
        SaeLens(Path.Combine(saes, "exact-resid"), "standard", "blocks.1.hook_resid_pre", D, 2 * D, PlantedStandard());
        SaeLens(Path.Combine(saes, "exact-z-bf16"), "standard", "blocks.1.attn.hook_z", D, 2 * D, PlantedStandard(), dtype: "BF16",
            edit: cfg => cfg["reshape_activations"] = "hook_z");
        SaeLens(Path.Combine(saes, "gated-f16"), "gated", "blocks.0.hook_mlp_out", D, 2 * D, new Dictionary<string, Tensor>
        {
            ["W_enc"] = PlusMinusEncoder(D), ["b_gate"] = Filled(0, 2 * D), ["b_mag"] = Filled(0, 2 * D), ["r_mag"] = Filled(0, 2 * D),
            ["W_dec"] = PlusMinusDecoder(D), ["b_dec"] = Filled(0, D),
        }, dtype: "F16");
        // SAELens's scaler: the SAE reads x·2 and its output is divided by 2 again; the planted SAE is still exact.
        SaeLens(Path.Combine(saes, "scaled"), "standard", "blocks.0.hook_resid_post", D, 2 * D, PlantedStandard(),
            edit: cfg => cfg["normalize_activations"] = "expected_average_only_in");
        File.WriteAllText(Path.Combine(saes, "scaled", "activation_scaler.json"), "{\"scaling_factor\": 2.0}");
        // With every pre-activation positive, top-1 keeps exactly one latent (rescaled by the decoder norms or not).
        var random = new Random(4);
        float[] Noise(int n) => [.. Enumerable.Range(0, n).Select(_ => random.NextSingle() - 0.5f)];
        SaeLens(Path.Combine(saes, "top1"), "topk", "blocks.1.hook_attn_out", D, 16, new Dictionary<string, Tensor>
        {
            ["W_enc"] = new([D, 16], Noise(D * 16)), ["b_enc"] = Filled(1000, 16), ["W_dec"] = new([16, D], Noise(16 * D)),
            ["b_dec"] = Filled(0, D),
        }, edit: cfg => cfg["rescale_acts_by_decoder_norm"] = true);
        SaeLens(Path.Combine(saes, "closed"), "jumprelu", "blocks.0.hook_resid_mid", D, 16, new Dictionary<string, Tensor>
        {
            ["W_enc"] = new([D, 16], Noise(D * 16)), ["b_enc"] = Filled(0, 16), ["W_dec"] = new([16, D], Noise(16 * D)),
            ["b_dec"] = Filled(0, D), ["threshold"] = Filled(1e30f, 16),
        });
        SaeLens(Path.Combine(saes, "head2"), "standard", "blocks.1.attn.hook_z", 8, 16, new Dictionary<string, Tensor>
        {
            ["W_enc"] = PlusMinusEncoder(8), ["b_enc"] = Filled(0, 16), ["W_dec"] = PlusMinusDecoder(8), ["b_dec"] = Filled(0, 8),
        }, hookHeadIndex: 2);
        // A hook IoiBench places, but where the sites file has no node; its model was loaded without centring.
        SaeLens(Path.Combine(saes, "elsewhere"), "standard", "blocks.0.hook_resid_pre", D, 2 * D, PlantedStandard(),
            edit: cfg => cfg["metadata"]!["model_from_pretrained_kwargs"] = new JsonObject { ["center_writing_weights"] = false });

        var (code, output, error) = CliRunner.Run(Score(dir, "--saes", saes, "--format", "json"));
        Assert.True(code == 0, error);
        Assert.Contains("elsewhere", error);   // the unplaced SAE is reported
        Assert.Contains("center_writing_weights=False", error);
        var rows = JsonLines(output).ToDictionary(r => r.GetProperty("sae").GetString()!);
        Assert.Equal(["closed", "exact-resid", "exact-z-bf16", "gated-f16", "head2", "scaled", "top1"], rows.Keys.Order());
        Assert.All(rows.Values, r => Assert.Equal("transformerlens", r.GetProperty("basis").GetString()));
        Assert.Equal("resid_pre@1@end", rows["exact-resid"].GetProperty("node").GetString());
        Assert.Equal("z@1@end", rows["exact-z-bf16"].GetProperty("node").GetString());
        Assert.Equal("z@1.2@end", rows["head2"].GetProperty("node").GetString());
        foreach (string exact in new[] { "exact-resid", "exact-z-bf16", "gated-f16", "scaled" })
            Assert.Equal(D, rows[exact].GetProperty("l0").GetDouble());
        foreach (string exact in new[] { "exact-resid", "exact-z-bf16", "scaled" })
            Assert.Equal(1.0, rows[exact].GetProperty("explained_variance").GetDouble());
        // The gate's magnitude weight is W_enc·exp(r_mag), and the vectorised exp(0) is 1 to within an ulp.
        Assert.Equal(1.0, rows["gated-f16"].GetProperty("explained_variance").GetDouble(), 1e-9);
        Assert.Equal(1.0, rows["head2"].GetProperty("explained_variance").GetDouble());
        Assert.Equal(8, rows["head2"].GetProperty("l0").GetDouble());
        Assert.Equal(1, rows["top1"].GetProperty("l0").GetDouble());
        Assert.Equal(0, rows["closed"].GetProperty("l0").GetDouble());
        // The edits on the cross-section each SAE covers; SAEs at other sites have none.
        Assert.Equal(["resid"], rows["exact-resid"].GetProperty("cross_sections").EnumerateArray()
            .Select(c => c.GetProperty("cross_section").GetString()).Distinct());
        Assert.Empty(rows["top1"].GetProperty("cross_sections").EnumerateArray());

        var run = RunJson.Read(dir.File("run"));
        Assert.Equal("transformerlens", run.Provenance.Basis);
        // An exact reconstruction leaves the logit difference as it was, up to float32 rounding between the clean and
        // the patched forward passes, which are separate passes.
        foreach (string exact in new[] { "exact-resid", "exact-z-bf16" })
            Assert.All(run.Selections.Where(s => s.Variant == exact), s => Assert.Equal(1.0, s.LdRecovered, 1e-6));
        var imported = run.Imported.ToDictionary(x => x.Name);
        Assert.Empty(imported["elsewhere"].Nodes);
        Assert.Equal(SaeImport.Hash(Path.Combine(saes, "gated-f16")), imported["gated-f16"].FileHash);
        Assert.Contains(run.Excluded, x => x.Variant == "elsewhere");
        Assert.Contains("## Imported SAEs", File.ReadAllText(dir.File("run/leaderboard.md")));
        Assert.Contains(imported["top1"].FileHash, File.ReadAllText(dir.File("run/report.html")));
        Assert.Contains(run.Edits, e => e.Variant == "exact-resid" && e.CrossSection == "resid" && e.Method == "agnostic");
    }

    [Fact]
    public void ASparsifySaeIsReadInTheRawBasisAtItsHookpoint()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), Sites);
        // encoder.weight is [d_sae, d_in]: [I; −I] is the planted encoder transposed; k = 2d keeps every positive latent.
        Sparsify(dir.File("h.0"), D, 2 * D, new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = PlusMinusDecoder(D), ["encoder.bias"] = Filled(0, 2 * D), ["W_dec"] = PlusMinusDecoder(D),
            ["b_dec"] = Filled(0, D),
        });
        var (code, output, error) = CliRunner.Run(Score(dir, "--saes", dir.File("h.0"), "--format", "json"));
        Assert.True(code == 0, error);
        var row = Assert.Single(JsonLines(output));
        Assert.Equal("resid_post@0@end", row.GetProperty("node").GetString());
        Assert.Equal("raw", row.GetProperty("basis").GetString());
        Assert.Equal("sparsify", row.GetProperty("format").GetString());
        Assert.Equal(1.0, row.GetProperty("explained_variance").GetDouble());
        Assert.Equal(D, row.GetProperty("l0").GetDouble());

        // With a SAELens SAE beside it, the two bases differ: the user must choose one.
        SaeLens(dir.File("saelens"), "standard", "blocks.1.hook_resid_pre", D, 2 * D, PlantedStandard());
        var mixed = CliRunner.Run(Score(dir, "--saes", dir.File("h.0"), dir.File("saelens")));
        Assert.Equal(2, mixed.Code);
        Assert.Contains("--basis", mixed.Err);
        var chosen = CliRunner.Run(Score(dir, "--saes", dir.File("h.0"), dir.File("saelens"), "--basis", "raw", "--format", "json"));
        Assert.True(chosen.Code == 0, chosen.Err);
        Assert.Contains("transformerlens-basis activations", chosen.Err);   // the SAELens SAE is scored, with a warning
        Assert.Equal(2, JsonLines(chosen.Out).Count);
    }

    [Fact]
    public void SaesTrainedByARunScoreAsTheyDidInIt()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end, resid_pre@1@end]\ncross_sections:\n" +
            "  - name: io-out\n    label: IO in z\n    attribute: io\n    nodes: [z@1.1@end]\n" +
            "  - name: resid\n    label: IO in the residual stream\n    attribute: io\n    nodes: [resid_pre@1@end]\n");
        File.WriteAllText(dir.File("preset.yaml"), "width: 16\nbatch_size: 16\nepochs: 2\nlearning_rate: 0.001\nvariants:\n  topk:\n    k: [2]\n");
        string[] common = ["--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--prompts", TinyDataset.PromptsDirectory,
            "--train", "60", "--validation", "12", "--test", "30", "--seed", "3", "--cache", dir.Path, "--pathology-prompts", "10",
            "--probe-train", "30"];
        var trained = CliRunner.Run(["run", .. common, "--preset", dir.File("preset.yaml"), "--output", dir.File("trained")]);
        Assert.True(trained.Code == 0, trained.Err);
        // IoiBench's files record the processed basis they were trained in: score reads them in it by default.
        var scored = CliRunner.Run(["score", .. common, "--saes", dir.File("trained/saes"), "--output", dir.File("scored")]);
        Assert.True(scored.Code == 0, scored.Err);

        var before = RunJson.Read(dir.File("trained"));
        var after = RunJson.Read(dir.File("scored"));
        Assert.Equal("processed", after.Provenance.Basis);
        foreach (string section in new[] { "io-out", "resid" })
            foreach (string method in new[] { "agnostic", "aware" })
            {
                var a = before.Edits.Single(e => e.CrossSection == section && e.Method == method && e.Variant == "topk");
                var b = Assert.Single(after.Edits, e => e.CrossSection == section && e.Method == method && e.Variant != "-");
                Assert.Equal(a.EditAccuracy.Mean, b.EditAccuracy.Mean);
                Assert.Equal(a.WeightRemoved.Mean, b.WeightRemoved.Mean);
                Assert.Equal(a.LogitDiff.Mean, b.LogitDiff.Mean);
            }
        foreach (var s in before.Selections.Where(s => s.Variant == "topk"))
        {
            var t = after.Selections.Single(x => x.Node == s.Node && x.Attribute == s.Attribute && x.Variant != "-");
            Assert.Equal(s.L0, t.L0);
            Assert.Equal(s.ExplainedVariance, t.ExplainedVariance);
        }
    }

    public static TheoryData<string, Action<string>, string> BadFiles() => new()
    {
        // A consistent SAE of 16 inputs, at a 32-wide site.
        { "d_in", d => SaeLens(d, "standard", "blocks.1.hook_resid_pre", 16, 32, new Dictionary<string, Tensor>
        {
            ["W_enc"] = PlusMinusEncoder(16), ["b_enc"] = Filled(0, 32), ["W_dec"] = PlusMinusDecoder(16), ["b_dec"] = Filled(0, 16),
        }), "field 'd_in'" },
        { "architecture", d => EditCfg(d, c => c["architecture"] = "crosscoder"), "field 'architecture'" },
        { "hook", d => EditCfg(d, c => c["metadata"]!["hook_name"] = "blocks.1.ln1.hook_normalized"), "field 'metadata.hook_name'" },
        { "shape", d => WriteSafeTensors(Path.Combine(d, "sae_weights.safetensors"),
            new Dictionary<string, Tensor>(PlantedStandard()) { ["b_enc"] = Filled(0, D) }, "F32"), "tensor 'b_enc'" },
        { "nan", d => WriteSafeTensors(Path.Combine(d, "sae_weights.safetensors"),
            new Dictionary<string, Tensor>(PlantedStandard()) { ["b_dec"] = Filled(float.NaN, D) }, "F32"), "'b_dec'" },
        { "normalization", d => EditCfg(d, c => c["normalize_activations"] = "constant_norm_rescale"), "field 'normalize_activations'" },
    };

    private static void EditCfg(string directory, Action<JsonObject> edit)
    {
        string path = Path.Combine(directory, "cfg.json");
        var cfg = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(cfg);
        File.WriteAllText(path, cfg.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void ABadSaeFileIsOneLineNamingTheFileAndFieldAndNothingIsWritten(string name, Action<string> damage, string field)
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), Sites);
        string sae = SaeLens(dir.File(name), "standard", "blocks.1.hook_resid_pre", D, 2 * D, PlantedStandard());
        damage(sae);
        var (code, _, error) = CliRunner.Run(Score(dir, "--saes", sae));
        Assert.Equal(2, code);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(sae, line);
        Assert.Contains(field, line);
        Assert.False(Directory.Exists(dir.File("run")));
    }
}
