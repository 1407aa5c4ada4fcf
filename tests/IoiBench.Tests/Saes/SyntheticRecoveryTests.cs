using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

/// <summary>Ground truth: SAEs trained on data with known features must find them (Sharkey et al.'s toy setting).</summary>
public class SyntheticRecoveryTests
{
    [Fact]
    public void TopKRecoversTheTrueFeatures()
    {
        var data = new SyntheticFeatures(dimension: 64, features: 128, samples: 20_000, meanActive: 5, seed: 1);
        var sae = new TopKSae(64, 256, k: 6, new DeterministicRandom(2));
        var history = SaeTrainer.Train(sae, data.Samples, new TrainingOptions(BatchSize: 256, Epochs: 10, LearningRate: 1e-3f, Seed: 3));
        double mmcs = SyntheticFeatures.MeanMaxCosine(data.Features, sae.Parameters["W_dec"]);
        Assert.True(mmcs >= 0.9, $"mean max cosine {mmcs}");
        Assert.True(history[^1].Reconstruction < history[0].Reconstruction);
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
    public void LearningRateDecaysLinearlyOverTheLastQuarter()
    {
        var options = new TrainingOptions(Epochs: 8, LearningRate: 1f);
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f, 1f, 0.5f], Enumerable.Range(0, 8).Select(options.LearningRateAt));
    }
}
