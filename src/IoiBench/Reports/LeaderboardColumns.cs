using System.Globalization;
using IoiBench.Metrics;
using IoiBench.Runs;

namespace IoiBench.Reports;

/// <summary>
/// A leaderboard column: its key (for <c>--columns</c>), header, and the cell for one edit row of a run. Readout
/// columns (pathology, probing, recovery) show the row's representation (supervised or the SAE variant) on the row's
/// cross-section, and a dash for the baselines. docs/metrics.md defines each.
/// </summary>
public sealed record LeaderboardColumn(string Key, string Header, Func<RunResults, EditResult, string> Cell);

public static class LeaderboardColumns
{
    public static readonly IReadOnlyList<LeaderboardColumn> All =
    [
        new("edit_accuracy", "edit accuracy", (_, r) => Interval(r.EditAccuracy)),
        new("weight_removed", "weight removed", (_, r) => Interval(r.WeightRemoved)),
        new("logit_diff", "logit diff", (_, r) => Number(r.LogitDiff.Mean, "F2")),
        new("ioi_accuracy", "IOI accuracy", (_, r) => Number(r.IoiAccuracy.Mean, "F3")),
        SeedColumn("edit_accuracy_seed_sd", "edit acc sd (seeds)", row => row.EditAccuracySd),
        SeedColumn("weight_removed_seed_sd", "weight rm sd (seeds)", row => row.WeightRemovedSd),
        Pathology("kl", "KL recon", p => p.KlReconstruction.Mean, "G3"),
        Pathology("kl_random", "KL ε-random", p => p.KlRandom.Mean, "G3"),
        Pathology("kl_ratio", "KL ratio", p => p.KlRatio, "F2"),
        Pathology("ld_change", "abs ΔLD recon", p => p.LdChangeReconstruction.Mean, "F3"),
        Pathology("ld_change_ratio", "abs ΔLD ratio", p => p.LdChangeRatio, "F2"),
        Probe(1), Probe(2), Probe(4), Probe(16), Probe(null),
        Recovery("best_f1", "best F1", r => r.BestF1),
        Recovery("splitting", "latents F1≥0.5", r => r.Splitting),
        Recovery("mmcs", "MMCS", r => r.MaxCosine),
    ];

    public static readonly IReadOnlyList<LeaderboardColumn> Default =
        Parse("edit_accuracy,weight_removed,edit_accuracy_seed_sd,weight_removed_seed_sd,logit_diff,ioi_accuracy,kl_ratio,ld_change_ratio,probe@1,probe@4,best_f1,mmcs");

    /// <summary>
    /// The columns to show for these runs: chosen ones as they are; from <see cref="Default"/>, those with a value in some
    /// row (e.g. the seed spread only for runs of several seeds).
    /// </summary>
    public static IReadOnlyList<LeaderboardColumn> For(IReadOnlyList<RunResults> runs, IReadOnlyList<LeaderboardColumn> columns) =>
        ReferenceEquals(columns, Default)
            ? [.. columns.Where(c => runs.Any(run => run.Edits.Any(r => c.Cell(run, r) != "—")))]
            : columns;

    /// <summary>Columns from a comma-separated list of keys; an unknown key is an error that lists the valid ones.</summary>
    public static IReadOnlyList<LeaderboardColumn> Parse(string keys)
    {
        var columns = new List<LeaderboardColumn>();
        foreach (string key in keys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            columns.Add(All.FirstOrDefault(c => c.Key == key)
                        ?? throw new InvalidInputException($"--columns: unknown column '{key}'; choose from {string.Join(", ", All.Select(c => c.Key))}."));
        if (columns.Count == 0) throw new InvalidInputException($"--columns: no column given; choose from {string.Join(", ", All.Select(c => c.Key))}.");
        return columns;
    }

    /// <summary>A spread over the training seeds (SAE rows of runs with several seeds), with the number of seeds.</summary>
    private static LeaderboardColumn SeedColumn(string key, string header, Func<SeedRow, double> value) =>
        new(key, header, (run, r) => r.Seed is not null && SeedSpread.Rows(run).FirstOrDefault(s => (s.CrossSection, s.Method, s.Variant) == (r.CrossSection, r.Method, r.Variant))
            is { Values.Count: > 1 } row ? $"{Number(value(row), "F3")} ({row.Values.Count})" : "—");

    private static LeaderboardColumn Pathology(string key, string header, Func<Pathology, double> value, string format) =>
        new(key, header, (run, r) => RunResults.RepresentationOf(r) is { } method && run.CrossSectionPathology(r.CrossSection, method) is { } p
            ? Number(value(p.Values), format) : "—");

    /// <summary>Probe accuracy with k features (all features: supervised codes only; SAE probes are sparse).</summary>
    private static LeaderboardColumn Probe(int? k) =>
        new(k is null ? "probe@all" : $"probe@{k}", k is null ? "probe (all)" : $"probe k={k}", (run, r) =>
            RunResults.RepresentationOf(r) is { } method && run.CrossSectionProbe(r.CrossSection, method, k) is { } p ? Number(p.TestAccuracy.Mean, "F3") : "—");

    /// <summary>Mean over the attribute's values (SAE rows only).</summary>
    private static LeaderboardColumn Recovery(string key, string header, Func<RecoveryResult, double> value) =>
        new(key, header, (run, r) => r.Method is "agnostic" or "aware" && run.CrossSectionRecovery(r.CrossSection, r.Variant) is { Count: > 0 } rows
            ? Number(rows.Average(value), "F3") : "—");

    private static string Interval(Estimate e) => double.IsNaN(e.Mean) ? "—" : $"{e.Mean:F3} [{e.Lower:F3}, {e.Upper:F3}]";

    private static string Number(double v, string format) => double.IsNaN(v) ? "—" : v.ToString(format, CultureInfo.InvariantCulture);
}
