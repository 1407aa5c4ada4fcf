using System.Globalization;
using System.Text;
using IoiBench.Prompts;
using IoiBench.Runs;

namespace IoiBench.Reports;

/// <summary>
/// The markdown leaderboard: one table per cross-section (a row per edit method and variant, sorted by edit accuracy,
/// the chosen columns), the raw-activation probe of each cross-section, and where each attribute is best decodable.
/// </summary>
public static class Leaderboard
{
    public static string Single(RunResults run, IReadOnlyList<LeaderboardColumn> columns)
    {
        var p = run.Provenance;
        var md = new StringBuilder();
        md.AppendLine($"# Leaderboard: {p.RunId}");
        md.AppendLine();
        md.AppendLine($"Model `{p.Model}` ({p.ModelHash[..12]}, {p.Basis} basis), preset `{p.Preset}`, seed {p.Seed}, " +
                      $"SAEs trained on {p.SaeTraining}, SAE selection on {p.Selection}. Edit accuracy: the edited run's argmax over the vocabulary agrees with " +
                      "the counterfactual-patched run's. Weight removed: the share of the clean reconstruction the edit took out " +
                      "(supervised: the attribute's weight). Brackets: 95% bootstrap intervals over the test prompts. " +
                      "Every column is defined in docs/metrics.md.");
        AppendTables(md, [run], columns);
        AppendDecodability(md, run);
        AppendImported(md, run);
        AppendExcluded(md, run);
        return md.ToString();
    }

    /// <summary>What DAS's training at a cross-section cost and reached, in one sentence.</summary>
    public static string DasTrainingLine(DasTrainingRecord das) => string.Create(CultureInfo.InvariantCulture,
        $"DAS (n = {das.Dimensions}): {das.Epochs} epochs, {das.Steps} steps, {das.PromptPasses:N0} prompt passes in {das.Seconds:F1} s " +
        $"on {das.TrainPrompts:N0} train prompts; validation cross-entropy to the counterfactual run {das.InitialValidationLoss:F3} → " +
        $"{das.ValidationLoss:F3} ({das.ValidationPrompts:N0} prompts).");

    /// <summary>The SAEs brought from elsewhere: their files (hashed), format, hook, basis and the nodes they read.</summary>
    private static void AppendImported(StringBuilder md, RunResults run)
    {
        if (run.Imported.Count == 0) return;
        md.AppendLine();
        md.AppendLine("## Imported SAEs");
        md.AppendLine();
        md.AppendLine("| SAE | format | hook | trained in basis | nodes | files (SHA-256) |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var x in run.Imported)
            md.AppendLine($"| {x.Name} | {x.Format} | {x.Hook} | {x.Basis} | {(x.Nodes.Count == 0 ? "none" : string.Join(", ", x.Nodes))} | " +
                          $"`{x.FileHash[..16]}` |");
    }

    /// <summary>The SAEs the run could not use, with their reasons.</summary>
    private static void AppendExcluded(StringBuilder md, RunResults run)
    {
        if (run.Excluded.Count == 0) return;
        md.AppendLine();
        md.AppendLine("## Excluded SAEs");
        md.AppendLine();
        foreach (var x in run.Excluded) md.AppendLine($"- {x.Node}, {x.Variant} {(x.Sae == "*" ? "(all)" : x.Sae)}: {x.Reason}");
    }

    /// <summary>Several runs in one table per cross-section (runs must share cross-section names to line up).</summary>
    public static string Merged(IReadOnlyList<RunResults> runs, IReadOnlyList<LeaderboardColumn> columns)
    {
        var md = new StringBuilder("# Leaderboard\n\n");
        md.AppendLine(string.Join("\n", runs.Select(r => $"- `{r.Provenance.RunId}`: model `{r.Provenance.Model}` ({r.Provenance.ModelHash[..12]}), " +
                                                         $"preset `{r.Provenance.Preset}`, seed {r.Provenance.Seed}, SAEs trained on {r.Provenance.SaeTraining}, " +
                                                         $"selection on {r.Provenance.Selection}")));
        AppendTables(md, runs, columns);
        return md.ToString();
    }

    /// <summary>One table per cross-section, rows sorted by edit accuracy; a run column when there are several runs.</summary>
    private static void AppendTables(StringBuilder md, IReadOnlyList<RunResults> runs, IReadOnlyList<LeaderboardColumn> chosen)
    {
        var columns = LeaderboardColumns.For(runs, chosen);
        bool tagged = runs.Count > 1;
        var rows = runs.SelectMany(run => run.Edits.Select(edit => (Run: run, Edit: edit)));
        foreach (var section in rows.GroupBy(x => x.Edit.CrossSection))
        {
            var first = section.First().Edit;
            md.AppendLine();
            md.AppendLine($"## {first.Label} ({first.CrossSection}, attribute {first.Attribute.ToString().ToUpperInvariant()})");
            md.AppendLine();
            md.AppendLine((tagged ? "| run " : "") + "| method | variant | " + string.Join(" | ", columns.Select(c => c.Header)) + " |");
            md.AppendLine((tagged ? "|---" : "") + "|---|---|" + string.Concat(columns.Select(_ => "---|")));
            foreach (var (run, r) in section.OrderByDescending(x => x.Edit.EditAccuracy.Mean).ThenBy(x => x.Edit.Method, StringComparer.Ordinal))
                md.AppendLine((tagged ? $"| {run.Provenance.RunId} " : "") + $"| {r.Method} | {r.Variant} | " +
                              string.Join(" | ", columns.Select(c => c.Cell(run, r))) + " |");
            foreach (var run in runs)
                if (SeedSpread.Stability(run).FirstOrDefault(s => s.CrossSection == first.CrossSection) is { } stability)
                    md.AppendLine().AppendLine((tagged ? $"`{run.Provenance.RunId}`: " : "") +
                        $"across the {run.Seeds.Count} training seeds, the {stability.Rows} SAE rows rank alike with Kendall's τ = " +
                        $"{stability.KendallTau.ToString("F2", CultureInfo.InvariantCulture)} (mean over {stability.SeedPairs} pairs of seeds).");
            foreach (var run in runs)
            {
                var raw = run.Probes.Where(p => p.Kind == ScopeKind.CrossSection && p.Scope == first.CrossSection && p.Method == "raw").ToList();
                if (raw.Count == 0) continue;
                md.AppendLine();
                md.AppendLine((tagged ? $"`{run.Provenance.RunId}`: " : "") + "probe of the raw activations: " +
                              string.Join(", ", raw.Select(p => $"{(p.K is { } k ? $"k={k}" : "all")} {p.TestAccuracy.Mean:F3}")) + ".");
            }
            foreach (var run in runs)
                if (run.DasTraining.FirstOrDefault(d => d.CrossSection == first.CrossSection) is { } das)
                {
                    md.AppendLine();
                    md.AppendLine((tagged ? $"`{run.Provenance.RunId}`: " : "") + DasTrainingLine(das));
                }
        }
    }

    /// <summary>
    /// Per attribute and probe size, the node where each representation decodes the attribute best (test accuracy):
    /// where in the circuit the attribute is readable, for every method.
    /// </summary>
    private static void AppendDecodability(StringBuilder md, RunResults run)
    {
        var probes = run.Probes.Where(p => p.Kind == ScopeKind.Node).ToList();
        if (probes.Count == 0) return;
        var methods = probes.Select(p => p.Method).Distinct().ToList();
        md.AppendLine();
        md.AppendLine("## Where each attribute is decodable");
        md.AppendLine();
        md.AppendLine("The node whose probe reads the attribute best on the test prompts (and its accuracy), over every node of the sites file.");
        md.AppendLine();
        md.AppendLine("| attribute | features | " + string.Join(" | ", methods) + " |");
        md.AppendLine("|---|---|" + string.Concat(methods.Select(_ => "---|")));
        foreach (var attribute in Enum.GetValues<IoiAttribute>())
            foreach (var k in probes.Select(p => p.K).Distinct().OrderBy(k => k ?? int.MaxValue))
            {
                var cells = methods.Select(m => probes.Where(p => p.Attribute == attribute && p.Method == m && p.K == k)
                    .OrderByDescending(p => p.TestAccuracy.Mean).ThenBy(p => p.Scope, StringComparer.Ordinal).FirstOrDefault() is { } best
                    ? $"{best.Scope} ({best.TestAccuracy.Mean.ToString("F3", CultureInfo.InvariantCulture)})" : "—");
                if (cells.All(c => c == "—")) continue;
                md.AppendLine($"| {attribute.ToString().ToUpperInvariant()} | {(k is { } n ? $"k={n}" : "all")} | " + string.Join(" | ", cells) + " |");
            }
    }
}
