using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

/// <summary>Ground truth: SAEs trained on data with known features must find them (Sharkey et al.'s toy setting).</summary>
[Collection(GemmThreadsCollection.Name)]
public class SyntheticRecoveryTests
{
    [Fact]
    public void EveryVariantOfTheSyntheticPresetRecoversTheTrueFeatures()
    {
        // 128 unit features in 64 dimensions, 5 active per sample on average, frequencies decaying across features.
        var preset = TrainingPreset.Load(Path.Combine(TestPaths.RepoRoot, "presets", "synthetic.yaml"));
        var results = SyntheticRecovery.Run(preset, new SyntheticRecovery.Setting());
        Assert.Equal(SaeVariants.All.Select(v => v.Name), results.Select(r => r.Spec.Variant));
        Assert.All(results, r => Assert.True(r.MeanMaxCosine >= 0.9, $"{r.Spec.Name}: mean max cosine {r.MeanMaxCosine:F3}"));
    }

    [Fact]
    public void AnUntrainedSaeDoesNotRecoverThem()
    {
        var data = new SyntheticFeatures(dimension: 64, features: 128, samples: 10, meanActive: 5, seed: 1);
        var sae = new TopKSae(64, 256, k: 6, new DeterministicRandom(2));
        Assert.True(SyntheticFeatures.MeanMaxCosine(data.Features, sae.Parameters["W_dec"]) < 0.6);
    }

    [Fact]
    public void SyntheticSamplesHaveMeanNormRootD()
    {
        var data = new SyntheticFeatures(16, 20, 2000, 3, seed: 5);
        double meanNorm = Enumerable.Range(0, 2000).Average(i => System.Numerics.Tensors.TensorPrimitives.Norm(data.Samples.Row(i)));
        Approx.Equal(4.0, meanNorm, 1e-4);
        Approx.Equal(1.0, SyntheticFeatures.MeanMaxCosine(data.Features, data.Features), 1e-6);
    }

    [Fact]
    public void MeanMaxCosineByHand()
    {
        // Features e1 and e2; decoder rows (1, 1)/√2·2 and (0, −1): best cosines 1/√2 and 1/√2.
        var features = Tensor.From([1, 0, 0, 1], 2, 2);
        var decoder = Tensor.From([2, 2, 0, -1], 2, 2);
        Approx.Equal(Math.Sqrt(0.5), SyntheticFeatures.MeanMaxCosine(features, decoder), 1e-6);
    }

    [Fact]
    public void LearningRateDecaysLinearlyOverTheLastQuarter()
    {
        var options = new TrainingOptions(Epochs: 8, LearningRate: 1f);
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f, 1f, 0.5f], Enumerable.Range(0, 8).Select(e => options.LearningRateAt(e, [])));
    }
}
