using IoiBench.Activations;
using IoiBench.Numerics;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Tests.Saes;

[Collection(GemmThreadsCollection.Name)]
public class TrainingPresetTests
{
    [Fact]
    public void TheQuickPresetLoads()
    {
        var preset = TrainingPreset.Load(Path.Combine(TestPaths.RepoRoot, "presets", "quick.yaml"));
        Assert.Equal("quick", preset.Name);
        Assert.Equal(512, preset.Width);
        Assert.Equal(["vanilla-l1-2.5", "gated-l1-2.5", "topk-k8"], preset.Saes.Select(s => s.Name));
    }

    [Fact]
    public void TheReferencePresetKeepsTheReferenceRecipe()
    {
        var preset = TrainingPreset.Load(Path.Combine(TestPaths.RepoRoot, "presets", "makelov2024.yaml"));
        Assert.Equal(12, preset.Saes.Count);
        Assert.Equal([0.5f, 1f, 2.5f, 5f], preset.Saes.Where(s => s.Variant == "gated").Select(s => s.Value));
        Assert.Equal([3f, 6f, 12f, 24f], preset.Saes.Where(s => s.Variant == "topk").Select(s => s.Value));
        Assert.All(preset.Saes.Where(s => s.Variant == "gated"), s => Assert.False(((GatedOptions)s.Options).MagnitudeRelu));
        Assert.All(preset.Saes.Where(s => s.Variant == "topk"), s => Assert.Equal(new TopKOptions(Relu: false, EncoderBias: false, NormaliseDecoder: false, ReferenceInit: true), s.Options));
        Assert.Equal((512, 2000, 3e-4f), (preset.Options.BatchSize, preset.Options.Epochs, preset.Options.LearningRate));
        Assert.Equal([501, 1001], preset.Options.ResampleAfterEpochs);
        Assert.Equal(100, preset.Options.WarmupEpochs);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 500, 750, 1000, 1250, 1500, 2000], preset.Options.Checkpoints);
        Assert.Equal(LearningRateSchedule.Reference, preset.Options.Schedule);
        var sae = (TopKSae)preset.Saes.Single(s => s.Name == "topk-k3").Create(64, 512, new DeterministicRandom(0));
        Assert.False(sae.Relu || sae.EncoderBias || sae.NormaliseDecoder);
        // The reference's top-k init: W_enc [64, 512] Kaiming-uniform with PyTorch's fan-in of that shape (512), W_dec = W_encᵀ.
        var (wEnc, wDec) = (sae.Parameters["W_enc"], sae.Parameters["W_dec"]);
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 512; j++) Assert.Equal(wEnc.Span[i * 512 + j], wDec.Span[j * 64 + i]);
        float bound = MathF.Sqrt(6f / 512);
        Assert.All(wEnc.Span.ToArray(), w => Assert.InRange(w, -bound, bound));
        Assert.InRange(System.Numerics.Tensors.TensorPrimitives.Norm(wDec.Row(0)), 0.3f, 0.7f);   // about √(64·2/512) = 0.5, not 1
    }

    [Theory]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 1\nlearning_rate: 0.01\nvariants:\n  vanilla:\n    l1: [1]\nwarmup: 3\n", "preset.yaml:8", "unknown key 'warmup'")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 1\nlearning_rate: 0.01\nvariants:\n  relu:\n    l1: [1]\n", "preset.yaml:6", "unknown SAE variant 'relu'")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 1\nlearning_rate: 0.01\nvariants:\n  topk:\n    l1: [1]\n", "preset.yaml:7", "unknown key 'l1'")]
    [InlineData("width: -8\nbatch_size: 4\nepochs: 1\nlearning_rate: 0.01\nvariants:\n  topk:\n    k: [1]\n", "preset.yaml:1", "'width' must be a positive integer")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 1\nlearning_rate: 0.01\nvariants: {topk: {k: [1]\n", "preset.yaml:", "invalid YAML")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\ncheckpoints: [1, 4]\nvariants:\n  topk:\n    k: [1]\n", "preset.yaml:5", "must not exceed epochs (3)")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  gated:\n    l1: [1]\n    magnitude_relu: maybe\n", "preset.yaml:8", "'magnitude_relu' must be true or false")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  vanilla:\n    l1: [1]\n    relu: false\n", "preset.yaml:8", "unknown key 'relu'")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nseed: 1\nseeds: [1, 2]\nvariants:\n  vanilla:\n    l1: [1]\n", "preset.yaml:5", "either 'seed' or 'seeds'")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nseeds: [1, 1]\nvariants:\n  vanilla:\n    l1: [1]\n", "preset.yaml:5", "lists a seed twice")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nseeds: []\nvariants:\n  vanilla:\n    l1: [1]\n", "preset.yaml:5", "'seeds' is empty")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 8\nlearning_rate: 0.01\nlr_schedule: reference\nresample_after_epochs: [2]\nwarmup_epochs: 3\nvariants:\n  vanilla:\n    l1: [1]\n",
        "preset.yaml:6", "must end before the final decay")]
    [InlineData("width: 8\nbatch_size: 4\nepochs: 8\nlearning_rate: 0.01\nlr_schedule: cosine\nvariants:\n  vanilla:\n    l1: [1]\n", "preset.yaml:5", "linear or reference")]
    [InlineData("width: 64\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  matryoshka:\n    k: [4]\n    matryoshka_widths: [16, 8]\n",
        "preset.yaml:8", "'matryoshka_widths': the widths must increase")]
    [InlineData("width: 64\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  matryoshka:\n    k: [4]\n    matryoshka_widths: [16, 64]\n",
        "preset.yaml:8", "from 1 to 63")]
    [InlineData("width: 64\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  jumprelu:\n    l0: [-1]\n", "preset.yaml:7", "'l0' must list positive numbers")]
    [InlineData("width: 64\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  batchtopk:\n    k: [65]\n", "preset.yaml:7", "'k' (65) must not exceed width (64)")]
    [InlineData("width: 64\nbatch_size: 4\nepochs: 3\nlearning_rate: 0.01\nvariants:\n  batchtopk:\n    k: [4]\n    relu: false\n", "preset.yaml:8", "unknown key 'relu'")]
    public void BadPresetsNameTheFileLineAndKey(string yaml, string where, string what)
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("preset.yaml"), yaml);
        var e = Assert.Throws<InvalidInputException>(() => TrainingPreset.Load(dir.File("preset.yaml")));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void ScalingGivesMeanNormRootD()
    {
        // Norms 5 and 1 in d = 4: s = 3 / 2, and the scaled rows have norms 10/3 and 2/3 (mean 2 = √4).
        var a = Tensor.From([3, 4, 0, 0, 0, 0, 1, 0], 2, 4);
        float s = ActivationScale.Of(a);
        Assert.Equal(1.5f, s);
        var scaled = ActivationScale.Apply(a, s);
        Approx.Equal(2.0, (System.Numerics.Tensors.TensorPrimitives.Norm(scaled.Row(0)) + System.Numerics.Tensors.TensorPrimitives.Norm(scaled.Row(1))) / 2, 1e-6);
    }

    [Fact]
    public void ASweepSavesEverySaeWithItsScaleAndScoresIt()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("preset.yaml"), "width: 16\nbatch_size: 8\nepochs: 2\nlearning_rate: 0.01\nseed: 4\nvariants:\n  vanilla:\n    l1: [1]\n  topk:\n    k: [2]\n");
        var preset = TrainingPreset.Load(dir.File("preset.yaml"));
        var nodes = new[] { SiteNode.Parse("z@1.1@end"), SiteNode.Parse("k@0.2@s1") };
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        var train = ActivationExtractor.Extract(model, dataset.Train, nodes);
        var test = ActivationExtractor.Extract(model, dataset.Test, nodes);

        var results = SaeSweep.Run(preset, train, test, dir.File("saes"), "tiny", null);
        Assert.Equal(4, results.Count);
        foreach (var r in results)
        {
            var (sae, cfg) = SaeFile.Load(r.Directory);
            Assert.Equal(r.Node.ToString(), cfg["ioibench"]!["node"]!.GetValue<string>());
            Assert.Equal(ActivationScale.Of(train.Get(r.Node, PromptVariant.Clean)), cfg["ioibench"]!["activation_scale"]!.GetValue<float>());
            Assert.Equal("cpu", cfg["ioibench"]!["training_device"]!.GetValue<string>());
            Assert.Equal("cpu", r.TrainedOn);
            Assert.Equal(16, sae.DSae);
            Assert.True(r.Test.ExplainedVariance <= 1);
        }
        Assert.Equal(2.0, results.Single(r => r.Spec.Variant == "topk" && r.Node == nodes[0]).TestL0, 6);

        // The same preset and seed give the same SAEs.
        var again = SaeSweep.Run(preset, train, test, dir.File("again"), "tiny", null);
        Assert.Equal(SaeFile.Load(results[0].Directory).Sae.Parameters["W_dec"].Span.ToArray(), SaeFile.Load(again[0].Directory).Sae.Parameters["W_dec"].Span.ToArray());

        // More seeds: the first seed's SAEs are the one-seed preset's, file for file; each other seed's SAEs are new ones.
        File.WriteAllText(dir.File("seeds.yaml"), File.ReadAllText(dir.File("preset.yaml")).Replace("seed: 4", "seeds: [4, 7]"));
        var seeded = SaeSweep.Run(TrainingPreset.Load(dir.File("seeds.yaml")), train, test, dir.File("seeds"), "tiny", null);
        Assert.Equal(8, seeded.Count);
        Assert.Equal([4ul, 7ul], seeded.Select(r => r.Seed).Distinct());
        foreach (var first in seeded.Where(r => r.Seed == 4))
        {
            var alone = results.Single(r => r.Node == first.Node && r.Spec == first.Spec);
            Assert.Equal(alone.Name, first.Name);
            Assert.Equal(File.ReadAllBytes(Path.Combine(alone.Directory, SaeFile.WeightsFile)), File.ReadAllBytes(Path.Combine(first.Directory, SaeFile.WeightsFile)));
        }
        foreach (var other in seeded.Where(r => r.Seed == 7))
        {
            Assert.Equal(other.Spec.Name + "-seed7", other.Name);
            var first = seeded.Single(r => r.Seed == 4 && r.Node == other.Node && r.Spec == other.Spec);
            Assert.NotEqual(SaeFile.Load(first.Directory).Sae.Parameters["W_dec"].Span.ToArray(), SaeFile.Load(other.Directory).Sae.Parameters["W_dec"].Span.ToArray());
        }
    }
}
