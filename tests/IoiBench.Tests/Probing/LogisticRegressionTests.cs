using IoiBench.Numerics;
using IoiBench.Probing;

namespace IoiBench.Tests.Probing;

public class LogisticRegressionTests
{
    private static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        var e = logits.ToArray().Select(v => Math.Exp(v - max)).ToArray();
        return [.. e.Select(v => v / e.Sum())];
    }

    [Fact]
    public void WithoutAPenaltyTheProbabilitiesAreTheEmpiricalClassFrequenciesOfEachFeatureValue()
    {
        // One binary feature, three classes. x = 0: classes 0, 0, 1, 2 → (1/2, 1/4, 1/4); x = 1: classes 0, 1, 2, 2 →
        // (1/4, 1/4, 1/2). A bias and one weight per class fit both exactly, so the maximum-likelihood probabilities are
        // these frequencies.
        var x = Tensor.From([0, 0, 0, 0, 1, 1, 1, 1], 8, 1);
        int[] y = [0, 0, 1, 2, 0, 1, 2, 2];
        var probe = LogisticRegression.Fit(x, y, 3, l2: 0, maxIterations: 500, tolerance: 1e-7);
        var logits = probe.Logits(Tensor.From([0, 1], 2, 1));
        var atZero = Softmax(logits.Row(0));
        var atOne = Softmax(logits.Row(1));
        double[] expectedZero = [0.5, 0.25, 0.25], expectedOne = [0.25, 0.25, 0.5];
        for (int c = 0; c < 3; c++)
        {
            Approx.Equal(expectedZero[c], atZero[c], 1e-4, $"p(class {c} | x = 0)");
            Approx.Equal(expectedOne[c], atOne[c], 1e-4, $"p(class {c} | x = 1)");
        }
        Assert.True(probe.GradientNorm <= 1e-5, $"gradient {probe.GradientNorm}");
    }

    [Fact]
    public void SeparableClustersAreClassifiedPerfectlyAndAConstantFeatureIsHarmless()
    {
        var rng = new DeterministicRandom(5);
        float[][] centres = [[4, 0], [0, 4], [-4, -4]];
        var x = new Tensor(90, 3);
        var y = new int[90];
        for (int p = 0; p < 90; p++)
        {
            y[p] = p % 3;
            x.Row(p)[0] = centres[y[p]][0] + (float)rng.NextGaussian() * 0.5f;
            x.Row(p)[1] = centres[y[p]][1] + (float)rng.NextGaussian() * 0.5f;
            x.Row(p)[2] = 7;   // constant
        }
        var probe = LogisticRegression.Fit(x, y, 3);
        Assert.Equal(y, probe.Predict(x));
    }

    [Fact]
    public void BadLabelsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LogisticRegression.Fit(Tensor.From([1, 2], 2, 1), [0, 3], 3));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(Tensor.From([1, 2], 2, 1), [0], 3));
    }
}
