using System.Globalization;
using System.Text;
using System.Text.Json;
using IoiBench.IO;
using IoiBench.Metrics;

namespace IoiBench.Runs;

/// <summary>Where a run came from: enough to tell whether two runs are comparable.</summary>
public sealed record RunProvenance(string RunId, string Model, string ModelHash, string DatasetHash, ulong Seed, string Preset, string PresetHash,
    string Selection, string Version, DateTimeOffset Finished);

/// <summary>
/// Writes a run's results under <c>results/RUN-ID/</c>: <c>run.json</c> (schema version, provenance, every edit result
/// and selection), <c>edits.csv</c>, <c>selections.csv</c>, <c>leaderboard.md</c> and <c>report.html</c>. Every file is
/// written atomically, run.json last.
/// </summary>
public static class RunReport
{
    public const int SchemaVersion = 1;

    public static void Write(string directory, RunProvenance provenance, IReadOnlyList<EditResult> results, IReadOnlyCollection<NodeSelection> selections)
    {
        AtomicFile.WriteAllText(Path.Combine(directory, "edits.csv"), EditsCsv(results));
        AtomicFile.WriteAllText(Path.Combine(directory, "selections.csv"), SelectionsCsv(selections));
        AtomicFile.WriteAllText(Path.Combine(directory, "leaderboard.md"), Leaderboard(provenance, results));
        AtomicFile.WriteAllText(Path.Combine(directory, "report.html"), Reports.RunHtmlReport.Render(provenance, results, selections));
        AtomicFile.WriteAllText(Path.Combine(directory, "run.json"), Json(provenance, results, selections));
    }

    private static string F(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string EditsCsv(IEnumerable<EditResult> results)
    {
        var csv = new StringBuilder("cross_section,attribute,method,variant,edit_accuracy,edit_accuracy_lo,edit_accuracy_hi,weight_removed,weight_removed_lo,weight_removed_hi,logit_diff,ioi_accuracy,prompts\n");
        foreach (var r in results)
            csv.AppendLine(string.Join(",", r.CrossSection, r.Attribute.ToString().ToLowerInvariant(), r.Method, r.Variant,
                F(r.EditAccuracy.Mean), F(r.EditAccuracy.Lower), F(r.EditAccuracy.Upper),
                F(r.WeightRemoved.Mean), F(r.WeightRemoved.Lower), F(r.WeightRemoved.Upper),
                F(r.LogitDiff.Mean), F(r.IoiAccuracy.Mean), r.EditAccuracy.Count));
        return csv.ToString();
    }

    private static string SelectionsCsv(IEnumerable<NodeSelection> selections)
    {
        var csv = new StringBuilder("node,attribute,variant,sae,epoch,selection_distance,test_distance,explained_variance,l0,supervised_cosine,best_f1,ld_recovered,spearman_distance_l0,spearman_distance_ld,candidates\n");
        foreach (var s in selections.OrderBy(s => s.Node.ToString(), StringComparer.Ordinal).ThenBy(s => s.Variant, StringComparer.Ordinal))
            csv.AppendLine(string.Join(",", s.Node, s.Attribute.ToString().ToLowerInvariant(), s.Variant, s.Sae, s.Epoch,
                F(s.SelectionDistance), F(s.TestDistance), F(s.ExplainedVariance), F(s.L0), F(s.SupervisedCosine), F(s.BestF1),
                F(s.LdRecovered), F(s.SpearmanL0), F(s.SpearmanLd), s.Candidates));
        return csv.ToString();
    }

    private static string Cell(Estimate e) => double.IsNaN(e.Mean) ? "—" : $"{e.Mean:F3} [{e.Lower:F3}, {e.Upper:F3}]";

    /// <summary>One table per cross-section, rows sorted by edit accuracy; intervals are 95% bootstrap over test prompts.</summary>
    public static string Leaderboard(RunProvenance provenance, IReadOnlyList<EditResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Leaderboard: {provenance.RunId}");
        md.AppendLine();
        md.AppendLine($"Model `{provenance.Model}` ({provenance.ModelHash[..12]}), preset `{provenance.Preset}`, seed {provenance.Seed}, " +
                      $"SAE selection on {provenance.Selection}. Edit accuracy: the edited run's argmax over the vocabulary agrees with " +
                      "the counterfactual-patched run's. Weight removed: the share of the clean reconstruction the edit took out " +
                      "(supervised: the attribute's weight). Brackets: 95% bootstrap intervals over the test prompts.");
        AppendTables(md, results.Select(r => ((string?)null, r)));
        return md.ToString();
    }

    /// <summary>Several runs in one table per cross-section (runs must share cross-section names to line up).</summary>
    public static string MergedLeaderboard(IReadOnlyList<(RunProvenance Provenance, List<EditResult> Edits)> runs)
    {
        var md = new StringBuilder("# Leaderboard\n\n");
        md.AppendLine(string.Join("\n", runs.Select(r => $"- `{r.Provenance.RunId}`: model `{r.Provenance.Model}` ({r.Provenance.ModelHash[..12]}), " +
                                                         $"preset `{r.Provenance.Preset}`, seed {r.Provenance.Seed}, selection on {r.Provenance.Selection}")));
        AppendTables(md, runs.SelectMany(r => r.Edits.Select(e => ((string?)r.Provenance.RunId, e))));
        return md.ToString();
    }

    /// <summary>One table per cross-section, rows sorted by edit accuracy; a run column when rows carry their run.</summary>
    private static void AppendTables(StringBuilder md, IEnumerable<(string? Run, EditResult Edit)> rows)
    {
        foreach (var section in rows.GroupBy(x => x.Edit.CrossSection))
        {
            var first = section.First().Edit;
            bool runs = section.Any(x => x.Run is not null);
            md.AppendLine();
            md.AppendLine($"## {first.Label} ({first.CrossSection}, attribute {first.Attribute.ToString().ToUpperInvariant()})");
            md.AppendLine();
            md.AppendLine((runs ? "| run " : "") + "| method | variant | edit accuracy | weight removed | logit diff | IOI accuracy |");
            md.AppendLine((runs ? "|---" : "") + "|---|---|---|---|---|---|");
            foreach (var (run, r) in section.OrderByDescending(x => x.Edit.EditAccuracy.Mean).ThenBy(x => x.Edit.Method, StringComparer.Ordinal))
                md.AppendLine((runs ? $"| {run} " : "") +
                              $"| {r.Method} | {r.Variant} | {Cell(r.EditAccuracy)} | {Cell(r.WeightRemoved)} | {r.LogitDiff.Mean:F2} | {r.IoiAccuracy.Mean:F3} |");
        }
    }

    private static string Json(RunProvenance provenance, IEnumerable<EditResult> results, IEnumerable<NodeSelection> selections)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            void Number(string name, double v)
            {
                if (double.IsNaN(v)) json.WriteNull(name);
                else json.WriteNumber(name, v);
            }
            void Interval(string name, Estimate e)
            {
                json.WriteStartObject(name);
                Number("mean", e.Mean); Number("lower", e.Lower); Number("upper", e.Upper); json.WriteNumber("n", e.Count);
                json.WriteEndObject();
            }
            json.WriteStartObject();
            json.WriteNumber("schema_version", SchemaVersion);
            json.WriteStartObject("provenance");
            json.WriteString("run_id", provenance.RunId);
            json.WriteString("model", provenance.Model);
            json.WriteString("model_hash", provenance.ModelHash);
            json.WriteString("dataset_hash", provenance.DatasetHash);
            json.WriteNumber("seed", provenance.Seed);
            json.WriteString("preset", provenance.Preset);
            json.WriteString("preset_hash", provenance.PresetHash);
            json.WriteString("selection", provenance.Selection);
            json.WriteString("version", provenance.Version);
            json.WriteString("finished", provenance.Finished.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteStartArray("edits");
            foreach (var r in results)
            {
                json.WriteStartObject();
                json.WriteString("cross_section", r.CrossSection);
                json.WriteString("label", r.Label);
                json.WriteString("attribute", r.Attribute.ToString().ToLowerInvariant());
                json.WriteString("method", r.Method);
                json.WriteString("variant", r.Variant);
                Interval("edit_accuracy", r.EditAccuracy);
                Interval("weight_removed", r.WeightRemoved);
                Interval("logit_diff", r.LogitDiff);
                Interval("ioi_accuracy", r.IoiAccuracy);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("selections");
            foreach (var s in selections)
            {
                json.WriteStartObject();
                json.WriteString("node", s.Node.ToString());
                json.WriteString("attribute", s.Attribute.ToString().ToLowerInvariant());
                json.WriteString("variant", s.Variant);
                json.WriteString("sae", s.Sae);
                json.WriteNumber("epoch", s.Epoch);
                Number("selection_distance", s.SelectionDistance);
                Number("test_distance", s.TestDistance);
                Number("explained_variance", s.ExplainedVariance);
                Number("l0", s.L0);
                Number("supervised_cosine", s.SupervisedCosine);
                Number("best_f1", s.BestF1);
                Number("ld_recovered", s.LdRecovered);
                Number("spearman_distance_l0", s.SpearmanL0);
                Number("spearman_distance_ld", s.SpearmanLd);
                json.WriteNumber("candidates", s.Candidates);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
