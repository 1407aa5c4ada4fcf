using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

public class SaeFileTests
{
    private static readonly SaeFile.Metadata Metadata = new("ioi-tiny", "z@2.3@end", 2, 3, "blocks.2.attn.hook_z", 1.75f);

    /// <summary>Every form of every registered variant that the device check trains (defaults and the reference's).</summary>
    public static TheoryData<string, int> Forms()
    {
        var forms = new TheoryData<string, int>();
        foreach (var v in SaeVariants.All)
            for (int i = 0; i < v.DeviceChecks.Count; i++)
                for (int j = 0; j < v.DeviceChecks[i].Specs.Length; j++) forms.Add(v.Name, i * 10 + j);
        return forms;
    }

    private static SparseAutoencoder Make(string variant, int form = 0)
    {
        var check = SaeVariants.Get(variant).DeviceChecks[form / 10];
        var sae = check.Specs[form % 10].Create(6, check.Width, new DeterministicRandom(11));
        var values = new DeterministicRandom(12);
        foreach (var t in sae.Parameters.Tensors.Values.Concat(sae.Buffers.Values))
            for (int i = 0; i < t.Length; i++) t.Span[i] = (float)values.NextGaussian();
        return sae;
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void SaveThenLoadIsBitExactAndKeepsTheOptions(string variant, int form)
    {
        using var dir = new TestPaths.TempDirectory();
        var original = Make(variant, form);
        SaeFile.Save(dir.File("a"), original, Metadata);
        var (loaded, cfg) = SaeFile.Load(dir.File("a"));

        Assert.Same(original.Variant, loaded.Variant);
        // What the file holds (JumpReLU: θ, not log θ) comes back bit for bit.
        var (stored, reloaded) = (original.Variant.FileTensors(original), loaded.Variant.FileTensors(loaded));
        Assert.Equal(stored.Keys.Order(), reloaded.Keys.Order());
        foreach (var (name, tensor) in stored) Assert.Equal(tensor.Span.ToArray(), reloaded[name].Span.ToArray());
        var x = Tensor.From(Enumerable.Range(0, 24).Select(i => MathF.Sin(i)).ToArray(), 4, 6);
        var (before, after) = (original.Loss(x, null), loaded.Loss(x, null));
        Assert.Equal((before.Total, before.Reconstruction, before.Sparsity, before.L0), (after.Total, after.Reconstruction, after.Sparsity, after.L0));
        Assert.Equal(original.Encode(x).Span.ToArray(), loaded.Encode(x).Span.ToArray());
        Assert.Equal("z@2.3@end", cfg["ioibench"]!["node"]!.GetValue<string>());
        Assert.Equal(1.75f, cfg["ioibench"]!["activation_scale"]!.GetValue<float>());
        Assert.Equal(original.DSae, cfg["d_sae"]!.GetValue<int>());
        // The loaded SAE writes the same files: every option and sparsity setting survived.
        SaeFile.Save(dir.File("b"), loaded, Metadata);
        Assert.Equal(File.ReadAllText(dir.File("a/cfg.json")), File.ReadAllText(dir.File("b/cfg.json")));
        Assert.Equal(File.ReadAllBytes(dir.File("a/sae_weights.safetensors")), File.ReadAllBytes(dir.File("b/sae_weights.safetensors")));
    }

    [Fact]
    public void FilesUseSaeLensNamesAndLayouts()
    {
        using var dir = new TestPaths.TempDirectory();
        SaeFile.Save(dir.Path, Make("vanilla"), Metadata);
        using var weights = SafeTensorsFile.Open(dir.File(SaeFile.WeightsFile));
        Assert.Equal([6, 64], weights.Info("W_enc").Shape);
        Assert.Equal([64, 6], weights.Info("W_dec").Shape);
        Assert.Equal([64], weights.Info("b_enc").Shape);
        Assert.Equal([6], weights.Info("b_dec").Shape);
        var cfg = JsonNode.Parse(File.ReadAllText(dir.File(SaeFile.ConfigFile)))!;
        Assert.Equal("standard", cfg["architecture"]!.GetValue<string>());
        Assert.Equal("blocks.2.attn.hook_z", cfg["hook_name"]!.GetValue<string>());
        Assert.Equal(3, cfg["hook_head_index"]!.GetValue<int>());
        // SAELens 6 reads the hook from metadata, and these fields as its SAEConfig defines them.
        Assert.Equal("blocks.2.attn.hook_z", cfg["metadata"]!["hook_name"]!.GetValue<string>());
        Assert.Equal(3, cfg["metadata"]!["hook_head_index"]!.GetValue<int>());
        Assert.Equal("none", cfg["reshape_activations"]!.GetValue<string>());
        Assert.Equal("none", cfg["normalize_activations"]!.GetValue<string>());
        Assert.True(cfg["apply_b_dec_to_input"]!.GetValue<bool>());
        Assert.Equal("float32", cfg["dtype"]!.GetValue<string>());

        // Top-k: SAELens's top-level k and rescale_acts_by_decoder_norm; a whole layer's z: hook_z, no head.
        SaeFile.Save(dir.File("topk"), Make("topk"), Metadata with { HookHead = -1, Node = "z@2@end" });
        var topk = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.File("topk"), SaeFile.ConfigFile)))!;
        Assert.Equal("topk", topk["architecture"]!.GetValue<string>());
        Assert.True(topk["k"]!.GetValue<int>() > 0);
        Assert.False(topk["rescale_acts_by_decoder_norm"]!.GetValue<bool>());
        Assert.Equal("hook_z", topk["reshape_activations"]!.GetValue<string>());
        Assert.Null(topk["metadata"]!["hook_head_index"]);
    }

    [Fact]
    public void AGatedSaeIsWrittenWithSaeLensGateNameAndAnOlderFileWithW_gateLoads()
    {
        using var dir = new TestPaths.TempDirectory();
        var original = (GatedSae)Make("gated");
        SaeFile.Save(dir.Path, original, Metadata);
        using (var weights = SafeTensorsFile.Open(dir.File(SaeFile.WeightsFile)))
        {
            Assert.True(weights.Contains("W_enc"));
            Assert.False(weights.Contains("W_gate"));
        }
        SafeTensorsWriter.Write(dir.File(SaeFile.WeightsFile), original.Parameters.Tensors);   // IoiBench's earlier names
        var (loaded, _) = SaeFile.Load(dir.Path);
        Assert.Equal(original.Parameters["W_gate"].Span.ToArray(), loaded.Parameters["W_gate"].Span.ToArray());
    }

    [Fact]
    public void BadFilesNameTheFieldOrTensor()
    {
        using var dir = new TestPaths.TempDirectory();
        Assert.Contains("cfg.json: file not found", Assert.Throws<InvalidInputException>(() => SaeFile.Load(dir.Path)).Message);

        SaeFile.Save(dir.Path, Make("topk"), Metadata);
        string cfg = File.ReadAllText(dir.File(SaeFile.ConfigFile));
        File.WriteAllText(dir.File(SaeFile.ConfigFile), cfg.Replace("\"variant\": \"topk\"", "\"variant\": \"crosscoder\""));
        Assert.Contains("'ioibench.variant' is 'crosscoder'", Assert.Throws<InvalidInputException>(() => SaeFile.Load(dir.Path)).Message);
        // Without IoiBench's field (a SAELens file), the architecture decides.
        File.WriteAllText(dir.File(SaeFile.ConfigFile), cfg.Replace("\"variant\": \"topk\",", "")
            .Replace("\"architecture\": \"topk\"", "\"architecture\": \"crosscoder\""));
        Assert.Contains("'architecture' is 'crosscoder'", Assert.Throws<InvalidInputException>(() => SaeFile.Load(dir.Path)).Message);

        File.WriteAllText(dir.File(SaeFile.ConfigFile), cfg.Replace("\"d_sae\": 64", "\"d_sae\": 66"));
        var e = Assert.Throws<InvalidInputException>(() => SaeFile.Load(dir.Path));
        Assert.Contains("'W_dec'", e.Message);
        Assert.Contains("expected [66, 6]", e.Message);
    }
}
