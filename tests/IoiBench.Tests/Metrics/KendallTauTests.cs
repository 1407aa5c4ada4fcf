using IoiBench.Metrics;

namespace IoiBench.Tests.Metrics;

public class KendallTauTests
{
    [Fact]
    public void CountsConcordantAndDiscordantPairs()
    {
        // Pairs of (1,2,3,4) against (1,3,2,4): five concordant, one discordant (2↔3): τ = 4/6.
        Assert.Equal(4.0 / 6, KendallTau.Correlation([1, 2, 3, 4], [1, 3, 2, 4]), 12);
        Assert.Equal(1, KendallTau.Correlation([1, 2, 3], [10, 20, 30]), 12);
        Assert.Equal(-1, KendallTau.Correlation([1, 2, 3], [3, 2, 1]), 12);
    }

    [Fact]
    public void TiesShrinkTheDenominatorAsInTauB()
    {
        // x = (1,1,2), y = (1,2,3): two concordant pairs, one tied in x: τ_b = 2 / √((3 − 1)(3 − 0)).
        Assert.Equal(2 / Math.Sqrt(6), KendallTau.Correlation([1, 1, 2], [1, 2, 3]), 12);
        Assert.True(double.IsNaN(KendallTau.Correlation([5, 5, 5], [1, 2, 3])));
        Assert.True(double.IsNaN(KendallTau.Correlation([1], [1])));
    }
}
