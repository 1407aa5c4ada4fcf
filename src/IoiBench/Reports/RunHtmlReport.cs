using System.Net;
using System.Text;
using IoiBench.Runs;

namespace IoiBench.Reports;

/// <summary>
/// The self-contained <c>report.html</c> of a run: provenance, edit accuracy against weight removed for the
/// interpretation-agnostic and -aware edits (as in the reference's figures), L0, LD recovered and explained variance against the
/// distance edits leave to the counterfactual, the leaderboard tables, and a per-site drill-down. Inline SVG, no scripts.
/// </summary>
public static class RunHtmlReport
{
    private static readonly Dictionary<string, string> Colours = new()
    {
        ["vanilla"] = "#1f77b4", ["gated"] = "#2ca02c", ["topk"] = "#d62728", ["supervised"] = "#111111", ["none"] = "#aaaaaa",
    };

    private static string Colour(string key) => Colours.TryGetValue(key, out var c) ? c : "#9467bd";

    public static string Render(RunProvenance provenance, IReadOnlyList<EditResult> results, IReadOnlyCollection<NodeSelection> selections)
    {
        var sections = results.Select(r => r.CrossSection).Distinct().ToList();
        var shapes = sections.Select((s, i) => (results.First(r => r.CrossSection == s).Label, i)).ToList();
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>IoiBench report: " + E(provenance.RunId) + "</title>");
        html.AppendLine("<style>body{font-family:sans-serif;max-width:1400px;margin:24px auto;color:#222}table{border-collapse:collapse;margin:8px 0 20px}" +
                        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}" +
                        ".plots{display:flex;flex-wrap:wrap;gap:12px}.note{color:#555;font-size:13px}</style></head><body>");
        html.AppendLine($"<h1>IoiBench: {E(provenance.RunId)}</h1>");
        html.AppendLine($"<p class=\"note\">Model <code>{E(provenance.Model)}</code> ({E(provenance.ModelHash[..12])}), dataset {E(provenance.DatasetHash[..12])}, " +
                        $"seed {provenance.Seed}, preset <code>{E(provenance.Preset)}</code>, SAE selection on {E(provenance.Selection)}, " +
                        $"IoiBench {E(provenance.Version)}, finished {provenance.Finished:u}. Intervals: 95% bootstrap over test prompts.</p>");

        html.AppendLine("<h2>Edit accuracy against weight removed</h2><p class=\"note\">Each point is one method on one cross-section; " +
                        "the ideal is high accuracy with weight removed close to the supervised features'. Hover a point for its values.</p><div class=\"plots\">");
        foreach (var (method, title) in new[] { ("agnostic", "Interpretation-agnostic (greedy, n = 2)"), ("aware", "Interpretation-aware (F1, 1 + 1)") })
        {
            var points = results.Where(r => r.Method == method || r.Method == "supervised" || r.Method == "none").Select(r =>
            {
                string key = r.Method == method ? r.Variant : r.Method;
                int shape = sections.IndexOf(r.CrossSection);
                return new ScatterPoint(r.EditAccuracy.Mean, double.IsNaN(r.WeightRemoved.Mean) ? 0 : r.WeightRemoved.Mean, Colour(key), shape,
                    $"{r.Label}, {key}: accuracy {r.EditAccuracy}, weight removed {r.WeightRemoved}",
                    r.EditAccuracy.Lower, r.EditAccuracy.Upper, r.WeightRemoved.Lower, r.WeightRemoved.Upper);
            }).ToList();
            var legend = results.Where(r => r.Method == method).Select(r => r.Variant).Distinct().Concat(["supervised", "none"]).Select(k => (k, Colour(k))).ToList();
            html.AppendLine(ScatterPlot.Render(title, "edit accuracy", "weight removed", points, legend, shapes, (0, 1), (0, 1)));
        }
        html.AppendLine("</div>");

        html.AppendLine("<h2>Sparsity and reconstruction against edit quality</h2><p class=\"note\">One point per node and variant (its selected SAE): " +
                        "mean L2 distance from the agnostic edit to the counterfactual activation on test (lower is better).</p><div class=\"plots\">");
        var variants = selections.Select(s => s.Variant).Distinct().Order(StringComparer.Ordinal).ToList();
        var variantLegend = variants.Select(v => (v, Colour(v))).ToList();
        var attributes = selections.Select(s => s.Attribute).Distinct().ToList();
        var attributeShapes = attributes.Select((a, i) => (a.ToString().ToUpperInvariant(), i)).ToList();
        ScatterPoint Point(NodeSelection s, double x) =>
            new(x, s.TestDistance, Colour(s.Variant), attributes.IndexOf(s.Attribute), $"{s.Node} ({s.Attribute}), {s.Variant} {s.Sae} epoch {s.Epoch}: L0 {s.L0:F1}, EV {s.ExplainedVariance:F3}, LD recovered {s.LdRecovered:F3}, distance {s.TestDistance:F3}");
        html.AppendLine(ScatterPlot.Render("L0 against distance", "L0 (test)", "distance to counterfactual", [.. selections.Select(s => Point(s, s.L0))], variantLegend, attributeShapes));
        html.AppendLine(ScatterPlot.Render("LD recovered against distance", "|1 − LD recovered| (node alone)", "distance to counterfactual",
            [.. selections.Select(s => Point(s, Math.Abs(1 - s.LdRecovered)))], variantLegend, attributeShapes));
        html.AppendLine(ScatterPlot.Render("Explained variance against distance", "explained variance (test)", "distance to counterfactual",
            [.. selections.Select(s => Point(s, s.ExplainedVariance))], variantLegend, attributeShapes));
        html.AppendLine("</div>");

        html.AppendLine("<h2>Leaderboard</h2>");
        foreach (var section in results.GroupBy(r => r.CrossSection))
        {
            var first = section.First();
            html.AppendLine($"<h3>{E(first.Label)} <span class=\"note\">({E(first.CrossSection)}, attribute {first.Attribute.ToString().ToUpperInvariant()})</span></h3>");
            html.AppendLine("<table><tr><th>method</th><th>variant</th><th>edit accuracy</th><th>weight removed</th><th>logit diff</th><th>IOI accuracy</th></tr>");
            foreach (var r in section.OrderByDescending(r => r.EditAccuracy.Mean))
                html.AppendLine($"<tr><td>{E(r.Method)}</td><td>{E(r.Variant)}</td><td>{Cell(r.EditAccuracy)}</td><td>{Cell(r.WeightRemoved)}</td>" +
                                $"<td>{r.LogitDiff.Mean:F2}</td><td>{r.IoiAccuracy.Mean:F3}</td></tr>");
            html.AppendLine("</table>");
        }

        html.AppendLine("<h2>Per-site drill-down</h2><p class=\"note\">Per node, attribute and variant: the selected SAE (λ or k, epoch), its test " +
                        "explained variance and L0, the distance its agnostic edits leave to the counterfactual (selection split, test), the mean over " +
                        "decoder rows of the best cosine with the attribute's supervised features, the mean over attribute values of the best latent's F1, " +
                        "the logit difference recovered with the node alone replaced by the SAE's reconstruction (1 = perfect, selection split), and, over " +
                        "the variant's candidates (λ or k × checkpoint), Spearman's ρ of the distance with L0 and with |1 − LD recovered|.</p>");
        html.AppendLine("<table><tr><th>node</th><th>attribute</th><th>variant</th><th>SAE</th><th>epoch</th><th>EV</th><th>L0</th>" +
                        "<th>distance (selection)</th><th>distance (test)</th><th>cosine to supervised</th><th>best F1</th><th>LD recovered</th>" +
                        "<th>ρ(distance, L0)</th><th>ρ(distance, |1 − LD rec.|)</th><th>candidates</th></tr>");
        foreach (var s in selections.OrderBy(s => s.Node.ToString(), StringComparer.Ordinal).ThenBy(s => s.Attribute).ThenBy(s => s.Variant, StringComparer.Ordinal))
            html.AppendLine($"<tr><td>{E(s.Node.ToString())}</td><td>{s.Attribute.ToString().ToUpperInvariant()}</td><td>{E(s.Variant)}</td><td>{E(s.Sae)}</td>" +
                            $"<td>{s.Epoch}</td><td>{s.ExplainedVariance:F3}</td><td>{s.L0:F1}</td><td>{s.SelectionDistance:F3}</td><td>{s.TestDistance:F3}</td>" +
                            $"<td>{s.SupervisedCosine:F3}</td><td>{s.BestF1:F3}</td><td>{s.LdRecovered:F3}</td><td>{N(s.SpearmanL0)}</td>" +
                            $"<td>{N(s.SpearmanLd)}</td><td>{s.Candidates}</td></tr>");
        html.AppendLine("</table></body></html>");
        return html.ToString();
    }

    private static string Cell(Metrics.Estimate e) => double.IsNaN(e.Mean) ? "—" : $"{e.Mean:F3} <span class=\"note\">[{e.Lower:F3}, {e.Upper:F3}]</span>";

    /// <summary>A correlation, or a dash where it is undefined (a constant side).</summary>
    private static string N(double value) => double.IsNaN(value) ? "—" : value.ToString("F2");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
