using IoiBench.Metrics;
using IoiBench.Prompts;
using IoiBench.Runs;

namespace IoiBench.Tests.Runs;

public class SeedSpreadTests
{
    private static EditResult Row(string method, string variant, ulong? seed, double accuracy, double weight) =>
        new("nm@z", "NM out", IoiAttribute.Io, method, variant, new Estimate(accuracy, 0, 1, 10), new Estimate(weight, 0, 1, 10),
            new Estimate(1, 0, 1, 10), new Estimate(1, 0, 1, 10)) { Seed = seed };

    private static RunResults Run()
    {
        var provenance = new RunProvenance("r", "m", "h", "d", 0, "p", "ph", "validation", "0", DateTimeOffset.UnixEpoch, "cpu");
        // Three SAE rows; seed 1 swaps the first two rows' order, seed 2 keeps seed 0's.
        EditResult[] first = [Row("none", "-", null, 0.4, 0), Row("agnostic", "gated", 0, 0.9, 0.5), Row("agnostic", "topk", 0, 0.8, 0.25), Row("aware", "topk", 0, 0.5, 0.1)];
        EditResult[] others =
        [
            Row("agnostic", "gated", 1, 0.7, 0.5), Row("agnostic", "topk", 1, 0.8, 0.75), Row("aware", "topk", 1, 0.5, 0.1),
            Row("agnostic", "gated", 2, 0.8, 0.5), Row("agnostic", "topk", 2, 0.6, 0.5), Row("aware", "topk", 2, 0.5, 0.1),
        ];
        return new RunResults(provenance, first, [], [], [], []) { Seeds = [0, 1, 2], SeedEdits = others };
    }

    [Fact]
    public void EachSaeRowGetsItsSampleSpreadOverTheSeeds()
    {
        var rows = SeedSpread.Rows(Run()).ToDictionary(r => (r.Method, r.Variant));
        Assert.Equal(3, rows.Count);   // "none" uses no SAE
        var gated = rows[("agnostic", "gated")];
        Assert.Equal([0ul, 1, 2], gated.Values.Select(v => v.Seed));
        Assert.Equal(0.1, gated.EditAccuracySd, 12);                    // values 0.9, 0.7, 0.8
        Assert.Equal((0.7, 0.9), gated.EditAccuracyRange);
        Assert.Equal(0, gated.WeightRemovedSd, 12);
        Assert.Equal(0.25, rows[("agnostic", "topk")].WeightRemovedSd, 12);   // 0.25, 0.75, 0.5
    }

    [Fact]
    public void RankStabilityIsTheMeanKendallTauOverPairsOfSeeds()
    {
        var stability = Assert.Single(SeedSpread.Stability(Run()));
        Assert.Equal(3, stability.SeedPairs);
        Assert.Equal(3, stability.Rows);
        // Rows (gated, topk, aware topk): seed 0 = (0.9, 0.8, 0.5), seed 1 = (0.7, 0.8, 0.5), seed 2 = (0.8, 0.6, 0.5).
        double tau01 = KendallTau.Correlation([0.9, 0.8, 0.5], [0.7, 0.8, 0.5]);
        double tau02 = KendallTau.Correlation([0.9, 0.8, 0.5], [0.8, 0.6, 0.5]);
        double tau12 = KendallTau.Correlation([0.7, 0.8, 0.5], [0.8, 0.6, 0.5]);
        Assert.Equal(1.0 / 3, tau01, 12);
        Assert.Equal(1, tau02, 12);
        Assert.Equal((tau01 + tau02 + tau12) / 3, stability.KendallTau, 12);
        Assert.Equal((1.0 / 3 + 1 + 1.0 / 3) / 3, stability.KendallTau, 12);
    }

    [Fact]
    public void OneSeedHasNoSpread()
    {
        var run = Run() with { };
        var single = new RunResults(run.Provenance, run.Edits, [], [], [], []) { Seeds = [0] };
        Assert.All(SeedSpread.Rows(single), r => Assert.True(double.IsNaN(r.EditAccuracySd)));
        Assert.Empty(SeedSpread.Stability(single));
    }
}
