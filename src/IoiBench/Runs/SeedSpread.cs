using IoiBench.Metrics;

namespace IoiBench.Runs;

/// <summary>
/// One SAE edit row (cross-section, method, variant) across the training seeds: its edit accuracy and weight removed
/// per seed (means over the test prompts), and their sample standard deviations and ranges over the seeds.
/// </summary>
public sealed record SeedRow(string CrossSection, string Method, string Variant, IReadOnlyList<(ulong Seed, double EditAccuracy, double WeightRemoved)> Values)
{
    public double EditAccuracySd => SampleSd(Values.Select(v => v.EditAccuracy));
    public double WeightRemovedSd => SampleSd(Values.Select(v => v.WeightRemoved));
    public (double Min, double Max) EditAccuracyRange => (Values.Min(v => v.EditAccuracy), Values.Max(v => v.EditAccuracy));
    public (double Min, double Max) WeightRemovedRange => (Values.Min(v => v.WeightRemoved), Values.Max(v => v.WeightRemoved));

    private static double SampleSd(IEnumerable<double> values)
    {
        var list = values.Where(double.IsFinite).ToList();
        if (list.Count < 2) return double.NaN;
        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
    }
}

/// <summary>
/// How stable a cross-section's ranking of its SAE rows (each variant's agnostic and aware edits) by edit accuracy is
/// across the seeds: Kendall's τ-b between every two seeds' rankings, averaged over the pairs (1: every seed ranks the
/// rows alike).
/// </summary>
public sealed record RankStability(string CrossSection, double KendallTau, int SeedPairs, int Rows);

/// <summary>The seed spread of a run: SAE edit rows across seeds, and each cross-section's rank stability.</summary>
public static class SeedSpread
{
    /// <summary>Every SAE edit row with its values of every seed (the first seed's from the run's edits, then the others').</summary>
    public static List<SeedRow> Rows(RunResults run) =>
        [.. run.Edits.Concat(run.SeedEdits).Where(e => e.Seed is not null)
            .GroupBy(e => (e.CrossSection, e.Method, e.Variant))
            .Select(g => new SeedRow(g.Key.CrossSection, g.Key.Method, g.Key.Variant,
                [.. g.Select(e => (e.Seed!.Value, e.EditAccuracy.Mean, e.WeightRemoved.Mean))]))];

    /// <summary>Per cross-section, the rank stability of its rows that every seed has (none with a single seed).</summary>
    public static List<RankStability> Stability(RunResults run)
    {
        var result = new List<RankStability>();
        foreach (var section in Rows(run).GroupBy(r => r.CrossSection))
        {
            var seeds = run.Seeds.Where(seed => section.All(r => r.Values.Any(v => v.Seed == seed))).ToList();
            var rows = section.ToList();
            if (seeds.Count < 2 || rows.Count < 2) continue;
            double Accuracy(SeedRow row, ulong seed) => row.Values.First(v => v.Seed == seed).EditAccuracy;
            var taus = new List<double>();
            for (int a = 0; a < seeds.Count; a++)
                for (int b = a + 1; b < seeds.Count; b++)
                    taus.Add(KendallTau.Correlation([.. rows.Select(r => Accuracy(r, seeds[a]))], [.. rows.Select(r => Accuracy(r, seeds[b]))]));
            var defined = taus.Where(double.IsFinite).ToList();
            result.Add(new RankStability(section.Key, defined.Count > 0 ? defined.Average() : double.NaN, taus.Count, rows.Count));
        }
        return result;
    }
}
