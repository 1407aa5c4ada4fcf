using IoiBench.Behaviour;
using IoiBench.Edits;
using IoiBench.Metrics;

namespace IoiBench.Tests.Metrics;

public class BootstrapTests
{
    [Fact]
    public void AConstantHasAZeroWidthInterval()
    {
        var e = Bootstrap.Mean([0.25, 0.25, 0.25]);
        Assert.Equal((0.25, 0.25, 0.25, 3), (e.Mean, e.Lower, e.Upper, e.Count));
    }

    [Fact]
    public void NaNsAreLeftOutAsANanmeanDoes()
    {
        var e = Bootstrap.Mean([1, double.NaN, 3]);
        Assert.Equal(2.0, e.Mean);
        Assert.Equal(2, e.Count);
        Assert.InRange(e.Lower, 1, 2);
        Assert.InRange(e.Upper, 2, 3);
        Assert.True(double.IsNaN(Bootstrap.Mean([double.NaN]).Mean));
    }

    [Fact]
    public void PercentilesInterpolateBetweenOrderStatistics()
    {
        // numpy.percentile([1, 2, 3, 4], [50, 2.5, 97.5]) = 2.5, 1.075, 3.925.
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(2.5, Bootstrap.Percentile(sorted, 0.5), 12);
        Assert.Equal(1.075, Bootstrap.Percentile(sorted, 0.025), 12);
        Assert.Equal(3.925, Bootstrap.Percentile(sorted, 0.975), 12);
    }

    [Fact]
    public void TheIntervalOfABernoulliMeanIsAboutTwoStandardErrorsWide()
    {
        // 400 prompts, 300 agreeing: p = 0.75, standard error √(p(1 − p)/n) ≈ 0.0217, so the interval is ≈ ±0.042.
        var e = Bootstrap.Mean([.. Enumerable.Range(0, 400).Select(i => i % 4 == 0 ? 0.0 : 1.0)], seed: 1);
        Assert.Equal(0.75, e.Mean, 12);
        Assert.InRange(e.Upper - e.Mean, 0.035, 0.05);
        Assert.InRange(e.Mean - e.Lower, 0.035, 0.05);
    }

    [Fact]
    public void EditAccuracyCountsArgmaxAgreementWithTheCounterfactualRun()
    {
        IoiScore[] edited = [new(1, true, false, 5), new(1, true, false, 7), new(1, true, false, 9)];
        IoiScore[] reference = [new(0, false, false, 5), new(2, true, true, 8), new(1, true, false, 9)];
        Assert.Equal([1.0, 0.0, 1.0], PatchedRun.Agreement(edited, reference));
    }
}

public class SpearmanTests
{
    [Fact]
    public void RanksShareTiesAndCorrelationsFollowTheRanks()
    {
        Assert.Equal([1.0, 2.5, 2.5, 4.0], Spearman.Ranks([10, 20, 20, 30]));
        Assert.Equal(1.0, Spearman.Correlation([1, 2, 3, 4], [10, 100, 1000, 10000]), 12);
        Assert.Equal(-1.0, Spearman.Correlation([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // Ranks (1, 2, 3) and (1, 3, 2): Pearson of the ranks = 0.5.
        Assert.Equal(0.5, Spearman.Correlation([1, 2, 3], [5, 9, 7]), 12);
        Assert.True(double.IsNaN(Spearman.Correlation([1, 1, 1], [1, 2, 3])));
    }
}
