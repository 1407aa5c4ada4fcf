using IoiBench.Reports;
using IoiBench.Metrics;
using IoiBench.Prompts;
using IoiBench.Runs;

namespace IoiBench.Tests.Runs;

public class RunComparisonTests
{
    private static RunProvenance Provenance(string preset = "h1") =>
        new("r", "m", "model-hash", "data-hash", 0, "quick", preset, "validation", "0", DateTimeOffset.UnixEpoch, "cpu");

    private static EditResult Edit(string method, string variant, double accuracy, double weight) =>
        new("nm@z", "NM out", IoiAttribute.Io, method, variant, new Estimate(accuracy, 0, 1, 10), new Estimate(weight, 0, 1, 10),
            new Estimate(1, 0, 1, 10), new Estimate(0.5, 0, 1, 10));

    private static RunResults Run(RunProvenance provenance, params EditResult[] edits) => new(provenance, edits, [], [], [], []);

    [Fact]
    public void TheLargestDifferencePerMetricIsFoundOverMatchingRows()
    {
        var run = Run(Provenance(), Edit("agnostic", "topk", 0.50, 0.25), Edit("aware", "topk", 0.40, 0.125), Edit("aware", "gated", 0.9, 0.9));
        var reference = Run(Provenance(), Edit("agnostic", "topk", 0.5625, 0.25), Edit("aware", "topk", 0.375, 0.0));

        var differences = RunComparison.Largest(run, reference).ToDictionary(d => d.Metric);
        Assert.Equal(0.0625, differences["edit accuracy"].Largest);
        Assert.Equal("nm@z agnostic topk", differences["edit accuracy"].Where);
        Assert.Equal(2, differences["edit accuracy"].Rows);   // the gated row has no match
        Assert.Equal(0.125, differences["weight removed"].Largest);
        Assert.Equal("nm@z aware topk", differences["weight removed"].Where);
        Assert.Equal(0, differences["logit diff"].Largest);
        Assert.Null(RunComparison.Incomparable(run, reference));
    }

    [Fact]
    public void RunsOfAnotherPresetAreNotCompared() =>
        Assert.Equal("the preset differs", RunComparison.Incomparable(Run(Provenance("h1")), Run(Provenance("h2"))));
}
