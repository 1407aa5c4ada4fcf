using IoiBench.Activations;
using IoiBench.Metrics;
using IoiBench.Numerics;
using IoiBench.Sites;

namespace IoiBench.Tests.Metrics;

public class ErrorPathologyTests
{
    [Fact]
    public void KlDivergenceMatchesTheHandComputedValue()
    {
        // P = softmax(0, ln 3) = (1/4, 3/4), Q = softmax(0, 0) = (1/2, 1/2):
        // KL(P ‖ Q) = 1/4·ln(1/2) + 3/4·ln(3/2).
        var logP = new float[2];
        var logQ = new float[2];
        NextTokenComparison.LogSoftmax([0f, (float)Math.Log(3)], logP);
        NextTokenComparison.LogSoftmax([5f, 5f], logQ);
        Approx.Equal(Math.Log(0.25), logP[0], 1e-6);
        Approx.Equal(Math.Log(0.5), logQ[1], 1e-6);
        Approx.Equal(0.25 * Math.Log(0.5) + 0.75 * Math.Log(1.5), NextTokenComparison.KlDivergence(logP, logQ), 1e-6);
        Assert.Equal(0.0, NextTokenComparison.KlDivergence(logP, logP));
    }

    [Fact]
    public void EpsilonRandomPointsSitAtTheReconstructionsDistanceInADeterministicDirection()
    {
        var original = Tensor.From([1, 2, 3, 0, 0, 0, 4, 4, 4], 3, 3);
        var reconstruction = Tensor.From([1, 2, 5, 3, 4, 0, 4, 4, 4], 3, 3);   // errors of length 2, 5 and 0
        var random = ErrorPathology.RandomAtSameDistance(original, reconstruction, new DeterministicRandom(7));
        float[] expected = [2, 5, 0];
        for (int p = 0; p < 3; p++)
            Approx.Equal(expected[p], System.Numerics.Tensors.TensorPrimitives.Distance(original.Row(p), random.Row(p)), 1e-6);
        Assert.Equal([4f, 4f, 4f], random.Row(2).ToArray());
        Assert.NotEqual(reconstruction.Row(0).ToArray(), random.Row(0).ToArray());
        var again = ErrorPathology.RandomAtSameDistance(original, reconstruction, new DeterministicRandom(7));
        Assert.Equal(random.Span.ToArray(), again.Span.ToArray());
    }

    [Fact]
    public void AReconstructionEqualToTheActivationChangesNothingAndAPerturbedOneDoes()
    {
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        var node = SiteNode.Parse("z@1.1@end");
        var clean = ActivationExtractor.Extract(model, dataset.Test, [node]).Get(node, PromptVariant.Clean);
        var comparison = new NextTokenComparison(model, [.. dataset.Test.Select(e => e.Clean)], [node.Layer]);

        var exact = ErrorPathology.Measure(comparison, new Dictionary<SiteNode, (Tensor, Tensor)> { [node] = (clean, clean) }, seed: 1);
        Assert.Equal(0.0, exact.KlReconstruction.Mean);
        Assert.Equal(0.0, exact.LdChangeReconstruction.Mean);
        Assert.Equal(0.0, exact.KlRandom.Mean);   // zero distance: the random point is the activation itself
        Assert.Equal(0.0, exact.RelativeError);

        var shrunk = clean.Clone();
        System.Numerics.Tensors.TensorPrimitives.Multiply(shrunk.Span, 0.5f, shrunk.Span);
        var half = ErrorPathology.Measure(comparison, new Dictionary<SiteNode, (Tensor, Tensor)> { [node] = (clean, shrunk) }, seed: 1);
        Approx.Equal(0.5, half.RelativeError, 1e-6);
        Assert.True(half.KlReconstruction.Mean > 0 && half.KlRandom.Mean > 0);
        Approx.Equal(half.KlReconstruction.Mean / half.KlRandom.Mean, half.KlRatio, 1e-12);
        Assert.True(half.KlReconstruction.Lower <= half.KlReconstruction.Mean && half.KlReconstruction.Mean <= half.KlReconstruction.Upper);
    }
}
