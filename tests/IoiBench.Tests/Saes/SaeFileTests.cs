using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

public class SaeFileTests
{
    private static readonly SaeFile.Metadata Metadata = new("ioi-tiny", "z@2.3@end", 2, 3, "blocks.2.attn.hook_z", 1.75f);

    public static TheoryData<string> Variants => new() { "vanilla", "gated", "topk" };

    private static SparseAutoencoder Make(string variant)
    {
        var rng = new DeterministicRandom(11);
        SparseAutoencoder sae = variant switch
        {
            "vanilla" => new VanillaSae(6, 10, 2.5f, rng),
            "gated" => new GatedSae(6, 10, 1.5f, rng, magnitudeRelu: false),
            _ => new TopKSae(6, 10, 3, rng, relu: false, encoderBias: false) { NormaliseDecoder = false },
        };
        var values = new DeterministicRandom(12);
        foreach (var t in sae.Parameters.Tensors.Values)
            for (int i = 0; i < t.Length; i++) t.Span[i] = (float)values.NextGaussian();
        return sae;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void SaveThenLoadIsBitExactAndKeepsTheOptions(string variant)
    {
        using var dir = new TestPaths.TempDirectory();
        var original = Make(variant);
        SaeFile.Save(dir.Path, original, Metadata);
        var (loaded, cfg) = SaeFile.Load(dir.Path);

        Assert.Equal(original.GetType(), loaded.GetType());
        foreach (var (name, tensor) in original.Parameters.Tensors)
            Assert.Equal(tensor.Span.ToArray(), loaded.Parameters[name].Span.ToArray());
        var x = Tensor.From(Enumerable.Range(0, 24).Select(i => MathF.Sin(i)).ToArray(), 4, 6);
        var (before, after) = (original.Loss(x, null), loaded.Loss(x, null));
        Assert.Equal((before.Total, before.Reconstruction, before.Sparsity, before.L0), (after.Total, after.Reconstruction, after.Sparsity, after.L0));
        Assert.Equal(before.Latents.Span.ToArray(), after.Latents.Span.ToArray());
        Assert.Equal("z@2.3@end", cfg["ioibench"]!["node"]!.GetValue<string>());
        Assert.Equal(1.75f, cfg["ioibench"]!["activation_scale"]!.GetValue<float>());
        Assert.Equal(10, cfg["d_sae"]!.GetValue<int>());
        switch (loaded)
        {
            case VanillaSae v: Assert.Equal(2.5f, v.L1Coefficient); break;
            case GatedSae g: Assert.False(g.MagnitudeRelu); Assert.Equal(1.5f, g.L1Coefficient); break;
            case TopKSae t: Assert.Equal(3, t.K); Assert.False(t.Relu); Assert.False(t.EncoderBias); Assert.False(t.NormaliseDecoder); break;
        }
    }

    [Fact]
    public void FilesUseSaeLensNamesAndLayouts()
    {
        using var dir = new TestPaths.TempDirectory();
        SaeFile.Save(dir.Path, Make("vanilla"), Metadata);
        using var weights = SafeTensorsFile.Open(dir.File(SaeFile.WeightsFile));
        Assert.Equal([6, 10], weights.Info("W_enc").Shape);
        Assert.Equal([10, 6], weights.Info("W_dec").Shape);
        Assert.Equal([10], weights.Info("b_enc").Shape);
        Assert.Equal([6], weights.Info("b_dec").Shape);
        var cfg = JsonNode.Parse(File.ReadAllText(dir.File(SaeFile.ConfigFile)))!;
        Assert.Equal("standard", cfg["architecture"]!.GetValue<string>());
        Assert.Equal("blocks.2.attn.hook_z", cfg["hook_name"]!.GetValue<string>());
        Assert.Equal(3, cfg["hook_head_index"]!.GetValue<int>());
    }

    [Fact]
    public void AGatedSaeWrittenWithSaeLensGateNameLoads()
    {
        using var dir = new TestPaths.TempDirectory();
        var original = (GatedSae)Make("gated");
        SaeFile.Save(dir.Path, original, Metadata);
        var renamed = original.Parameters.Tensors.ToDictionary(p => p.Key == "W_gate" ? "W_enc" : p.Key, p => p.Value);
        SafeTensorsWriter.Write(dir.File(SaeFile.WeightsFile), renamed);
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
        File.WriteAllText(dir.File(SaeFile.ConfigFile), cfg.Replace("\"topk\",", "\"jumprelu\",").Replace("\"architecture\": \"topk\"", "\"architecture\": \"jumprelu\""));
        Assert.Contains("'architecture' is 'jumprelu'", Assert.Throws<InvalidInputException>(() => SaeFile.Load(dir.Path)).Message);

        File.WriteAllText(dir.File(SaeFile.ConfigFile), cfg.Replace("\"d_sae\": 10", "\"d_sae\": 12"));
        var e = Assert.Throws<InvalidInputException>(() => SaeFile.Load(dir.Path));
        Assert.Contains("'W_dec'", e.Message);
        Assert.Contains("expected [12, 6]", e.Message);
    }
}
