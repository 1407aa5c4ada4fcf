using IoiBench.Edits;
using IoiBench.Numerics;

namespace IoiBench.Tests.Edits;

/// <summary>The baselines' subspace interchange, its weight removed and their subspaces, on hand-computed cases.</summary>
public class SubspaceEditTests
{
    private static Tensor Rows(int d, params float[] values) => Tensor.From(values, values.Length / d, d);

    private static float[] Interchange(float[] clean, float[] counterfactual, Tensor directions)
    {
        var edited = new float[clean.Length];
        SubspaceEdit.Interchange(clean, counterfactual, directions, edited);
        return edited;
    }

    [Fact]
    public void TheInterchangeTakesTheCounterfactualsPartInsideTheSubspaceAndKeepsTheRest()
    {
        float[] x = [1, 2, 0], cf = [3, 0, 1];
        Assert.Equal([3f, 2, 0], Interchange(x, cf, Rows(3, 1, 0, 0)));
        Assert.Equal([3f, 2, 1], Interchange(x, cf, Rows(3, 1, 0, 0, 0, 0, 1)));
        // (e1 + e2)/√2 · (cf − x) = (2 − 2)/√2 = 0: nothing moves.
        float r = 1 / MathF.Sqrt(2);
        Assert.Equal(x, Interchange(x, cf, Rows(3, r, r, 0)));
        // The whole space: the counterfactual itself.
        Assert.Equal(cf, Interchange(x, cf, Rows(3, 1, 0, 0, 0, 1, 0, 0, 0, 1)));
    }

    [Fact]
    public void WeightRemovedIsTheSubspacesShareOfTheCentredActivation()
    {
        float[] x = [1, 2, 0];
        Assert.Equal(1.0 / 5, SubspaceEdit.WeightRemoved(x, [0, 0, 0], Rows(3, 1, 0, 0)), 12);
        Assert.Equal(1.0, SubspaceEdit.WeightRemoved(x, [0, 0, 0], Rows(3, 1, 0, 0, 0, 1, 0)), 12);
        // Centred on μ = (1, 0, 0): x − μ = (0, 2, 0) lies along e2.
        Assert.Equal(0.0, SubspaceEdit.WeightRemoved(x, [1, 0, 0], Rows(3, 1, 0, 0)), 12);
        Assert.Equal(1.0, SubspaceEdit.WeightRemoved(x, [1, 0, 0], Rows(3, 0, 1, 0)), 12);
        Assert.Equal(0.0, SubspaceEdit.WeightRemoved(x, x, Rows(3, 1, 0, 0)));
    }

    [Fact]
    public void GramSchmidtOrthonormalisesInOrderAndRefusesADependentRow()
    {
        var basis = SubspaceEdit.Orthonormal(Rows(2, 3, 4, 1, 0));
        Approx.Equal([0.6f, 0.8f], basis.Row(0), 1e-7, "first");
        // (1, 0) − 0.6·(0.6, 0.8) = (0.64, −0.48), of norm 0.8.
        Approx.Equal([0.8f, -0.6f], basis.Row(1), 1e-6, "second");
        Assert.Throws<ArgumentException>(() => SubspaceEdit.Orthonormal(Rows(2, 1, 2, 2, 4)));
    }

    [Fact]
    public void PrincipalDirectionsAreTheCovariancesOrTheSecondMomentsLeadingEigenvectors()
    {
        // Four rows: (2, 0) three times and (2, 1). About 0 the second moment is [[16, 2], [2, 1]], led by e1's side;
        // centred, every row differs only along e2.
        var rows = Rows(2, 2, 0, 2, 0, 2, 0, 2, 1);
        var uncentred = BaselineDirections.Principal(rows, 1, centre: false).Row(0);
        // [[16, 2], [2, 1]]: λ = (17 + √(15² + 16))/2, eigenvector ∝ (2, λ − 16).
        double lambda = (17 + Math.Sqrt(225 + 16)) / 2, norm = Math.Sqrt(4 + (lambda - 16) * (lambda - 16));
        Assert.Equal(2 / norm, Math.Abs(uncentred[0]), 6);
        Assert.Equal((lambda - 16) / norm, Math.Abs(uncentred[1]), 6);
        Assert.True(uncentred[0] * uncentred[1] > 0);
        var centred = BaselineDirections.Principal(rows, 2, centre: true);
        Assert.Equal(1.0, Math.Abs(centred.Row(0)[1]), 6);
        Assert.Equal(1.0, Math.Abs(centred.Row(1)[0]), 6);
    }

    [Fact]
    public void AProbesDirectionIsTheOneItReadsTheClassFrom()
    {
        // Two classes apart along e2, with unrelated spread along e1 and e3.
        var random = new DeterministicRandom(3);
        int n = 400;
        var features = new Tensor(n, 3);
        var labels = new int[n];
        for (int p = 0; p < n; p++)
        {
            labels[p] = p % 2;
            features.Row(p)[0] = (float)(3 * random.NextGaussian());
            features.Row(p)[1] = (labels[p] == 1 ? 1f : -1f) + (float)(0.3 * random.NextGaussian());
            features.Row(p)[2] = (float)random.NextGaussian();
        }
        var direction = BaselineDirections.Probe(features, labels, classes: 2, n: 1).Row(0);
        Assert.True(Math.Abs(direction[1]) > 0.99, $"probe direction ({direction[0]}, {direction[1]}, {direction[2]})");
    }

    [Fact]
    public void RandomSubspacesAreOrthonormalAndSeeded()
    {
        var a = BaselineDirections.Random(6, 2, new DeterministicRandom(1, 7));
        var b = BaselineDirections.Random(6, 2, new DeterministicRandom(1, 7));
        var c = BaselineDirections.Random(6, 2, new DeterministicRandom(1, 8));
        Assert.Equal(a.Span.ToArray(), b.Span.ToArray());
        Assert.NotEqual(a.Span.ToArray(), c.Span.ToArray());
        double Dot(int i, int j) => Enumerable.Range(0, 6).Sum(k => (double)a.Row(i)[k] * a.Row(j)[k]);
        Assert.Equal(1.0, Dot(0, 0), 6);
        Assert.Equal(1.0, Dot(1, 1), 6);
        Assert.Equal(0.0, Dot(0, 1), 6);
    }
}
