using IoiBench.Numerics;
using IoiBench.Probing;

namespace IoiBench.Tests.Probing;

public class SparseProbeTests
{
    // Labels 0, 0, 1, 1. Column 0 = (1, 3, 5, 7): class means 2 and 6, overall 4; SSB = 2·4 + 2·4 = 16, SSW = 4, ratio 4.
    // Column 1 = (1, 1, 2, 2): no spread within classes → +∞. Column 2 constant → 0. Column 3 = (1, 2, 1, 2): equal class
    // means → SSB = 0 → 0.
    private static readonly Tensor Features = Tensor.From([1, 1, 5, 1, 3, 1, 5, 2, 5, 2, 5, 1, 7, 2, 5, 2], 4, 4);
    private static readonly int[] Labels = [0, 0, 1, 1];

    [Fact]
    public void SeparationScoresAreTheBetweenToWithinClassSumOfSquaresRatio()
    {
        var scores = SparseProbe.SeparationScores(Features, Labels, 2);
        Approx.Equal(4.0, scores[0], 1e-12);
        Assert.Equal(double.PositiveInfinity, scores[1]);
        Assert.Equal(0.0, scores[2]);
        Assert.Equal(0.0, scores[3]);
        Assert.Equal([1, 0], SparseProbe.Best(scores, 2));
        Assert.Equal([1, 0, 2, 3], SparseProbe.Best(scores, 4));   // the tie at 0 goes to the lower column
    }

    [Fact]
    public void AProbeOnThePerfectlySeparatingColumnIsRightOnEveryTestExample()
    {
        var column = Tensor.From([1, 1, 2, 2], 4, 1);
        var outcome = SparseProbe.Fit(column, Labels, Tensor.From([2, 1, 1], 3, 1), [1, 0, -1], 2, l2: 1e-3);
        Assert.Equal(1.0, outcome.TrainAccuracy);
        Assert.Equal([1.0, 1.0, 0.0], outcome.TestCorrect);   // a label never seen in train (−1) is always wrong
    }
}
