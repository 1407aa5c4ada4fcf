using System.Text;
using IoiBench.Runs;
using IoiBench.Sites;
using static IoiBench.Reports.RunHtmlReport;

namespace IoiBench.Reports;

/// <summary>
/// The report's per-site drill-down, a section per node: its cross-sections and the supervised dictionary's quality
/// there; its selected SAEs; every candidate's distance to the counterfactual against L0 and LD recovered, with
/// each variant's rank correlations (the reference's figure); feature recovery per attribute value and variant; and, in each cross-section of several nodes
/// it belongs to, the edit accuracy each method reaches with this node edited alone.
/// </summary>
internal static class NodeSections
{
    public static void Append(StringBuilder html, RunResults run, string heading)
    {
        var nodes = CircuitIndex.Nodes(run);
        if (nodes.Count == 0) return;
        html.AppendLine(heading + "<p class=\"note\">A section per node. <b>Selected SAEs</b>, per attribute and variant: λ or k and " +
                        "epoch, test explained variance and L0, the distance its agnostic edits leave to the counterfactual (selection split, " +
                        "test), the mean over decoder rows of the best cosine with the attribute's supervised features, the mean over values of " +
                        "the best latent's F1, the logit difference recovered with the node alone replaced by the SAE's reconstruction (1 = " +
                        "perfect, selection split), and Spearman's ρ over the candidates of the distance with L0 and with |1 − LD recovered|. <b>Candidates</b>: " +
                        "every λ or k × checkpoint of the attributes its cross-sections edit, by L0 and by |1 − LD recovered|, the selected " +
                        "ones as stars; the legend gives each variant's two ρ. " +
                        "<b>Feature recovery</b>: per value, the best latent's F1 as a detector of it (train), how many latents reach F1 ≥ 0.5 " +
                        "(two or more: the value is split) and the best decoder cosine with its supervised feature. <b>Share in the " +
                        "cross-section's edits</b>: each method's edit at this node alone, the cross-section's other nodes left clean, scored " +
                        "against the whole cross-section's counterfactual patch, on the first test prompts, beside the cross-section's own " +
                        "row (every test prompt).</p>");
        foreach (var node in nodes) Section(html, run, node);
    }

    private static void Section(StringBuilder html, RunResults run, SiteNode node)
    {
        string name = node.ToString();
        var quality = run.Dictionaries.FirstOrDefault(d => d.Node == node);
        string index = run.CrossSections.Count > 0 ? $" <a href=\"#{Anchor("site", name)}\">circuit index</a>" : "";
        string sections = run.CrossSections.Any(c => c.Nodes.Contains(node)) ? "Cross-sections: " + CircuitIndex.Marks(run, node, labels: true) + ". " : "";
        string dictionary = quality is null ? "" : $"Supervised dictionary on test: explained variance {F3(quality.ExplainedVariance)}, relative error " +
            $"{F3(quality.RelativeError)}, mean attribute weights IO {F3(quality.IoWeight)}, S {F3(quality.SWeight)}, Pos {F3(quality.PosWeight)}.";
        html.AppendLine($"<h3 id=\"{Anchor("node", name)}\">{E(name)}</h3><p class=\"note\">{sections}{dictionary}{index}</p>");
        Selections(html, run, node);
        Candidates(html, run, node);
        Recovery(html, run, name);
        EditShare(html, run, name);
    }

    private static void Selections(StringBuilder html, RunResults run, SiteNode node)
    {
        var rows = run.Selections.Where(s => s.Node == node).OrderBy(s => s.Attribute).ThenBy(s => s.Variant, StringComparer.Ordinal).ToList();
        if (rows.Count == 0) return;
        html.AppendLine("<table><tr><th>attribute</th><th>variant</th><th>SAE</th><th>epoch</th><th>EV</th><th>L0</th>" +
                        "<th>distance (selection)</th><th>distance (test)</th><th>cosine to supervised</th><th>best F1</th><th>LD recovered</th>" +
                        "<th>ρ(distance, L0)</th><th>ρ(distance, |1 − LD rec.|)</th><th>candidates</th></tr>");
        foreach (var s in rows)
            html.AppendLine($"<tr><td>{A(s.Attribute)}</td><td>{E(s.Variant)}</td><td>{E(s.Sae)}</td><td>{s.Epoch}</td><td>{s.ExplainedVariance:F3}</td>" +
                            $"<td>{s.L0:F1}</td><td>{s.SelectionDistance:F3}</td><td>{s.TestDistance:F3}</td><td>{s.SupervisedCosine:F3}</td>" +
                            $"<td>{s.BestF1:F3}</td><td>{s.LdRecovered:F3}</td><td>{N(s.SpearmanL0)}</td><td>{N(s.SpearmanLd)}</td><td>{s.Candidates}</td></tr>");
        html.AppendLine("</table>");
    }

    /// <summary>
    /// Every candidate each of the node's selections for an attribute its cross-sections edit (for every attribute at a
    /// node no cross-section edits) scored: its distance to the counterfactual against its L0 and its |1 − LD recovered|
    /// side by side, colour by variant, shape by attribute, the chosen ones as stars; the legend gives each variant's
    /// Spearman ρ of the distance with L0 and with |1 − LD recovered|.
    /// </summary>
    private static void Candidates(StringBuilder html, RunResults run, SiteNode node)
    {
        var edited = run.CrossSections.Where(c => c.Nodes.Contains(node)).Select(c => c.Attribute).ToHashSet();
        var selections = run.Selections.Where(s => s.Node == node && s.CandidateScores.Count > 0 && (edited.Count == 0 || edited.Contains(s.Attribute)))
            .ToList();
        if (selections.Count == 0) return;
        const int chosen = 6;   // the star
        var attributes = selections.Select(s => s.Attribute).Distinct().ToList();
        var shapes = attributes.Select((a, i) => (A(a), i)).Append(("selected", chosen)).ToList();
        // Each variant's Spearman ρ of the distance with L0 and with |1 − LD recovered| (its attributes' mean) in the legend.
        var legend = selections.GroupBy(s => s.Variant).Select(g =>
            ($"{g.Key}: ρ {N(g.Average(s => s.SpearmanL0))}, {N(g.Average(s => s.SpearmanLd))}", Colour(g.Key))).ToList();
        var points = selections.SelectMany(s => s.CandidateScores.Select(c =>
        {
            bool selected = c.Sae == s.Sae && c.Epoch == s.Epoch;
            return new PairedPoint(c.L0, Math.Abs(1 - c.LdRecovered), c.Distance, Colour(s.Variant), selected ? chosen : attributes.IndexOf(s.Attribute),
                $"{A(s.Attribute)}, {c.Sae} @{c.Epoch}: distance {c.Distance:F3}, L0 {c.L0:F1}, LD rec. {c.LdRecovered:F3}" + (selected ? " (selected)" : ""));
        })).ToList();
        html.AppendLine(ScatterPlot.RenderPair($"{node}: candidates", "L0", "|1 − LD recovered|", "distance to counterfactual (selection)", points,
            legend, shapes));
    }

    /// <summary>Per attribute: each variant's means over the values, and the best F1 per value × variant as a heatmap.</summary>
    private static void Recovery(StringBuilder html, RunResults run, string node)
    {
        foreach (var attribute in run.Recovery.Where(r => r.Kind == ScopeKind.Node && r.Scope == node).GroupBy(r => r.Attribute))
        {
            var variants = attribute.Select(r => r.Variant).Distinct().ToList();
            var values = attribute.Select(r => r.Value).Distinct().ToList();
            var cell = attribute.ToDictionary(r => (r.Variant, r.Value));
            html.AppendLine($"<table><tr><th>{A(attribute.Key)} recovery</th><th>mean best F1</th><th>values split (≥ 2 latents)</th>" +
                            "<th>values with no latent</th><th>mean max cosine</th></tr>");
            foreach (string variant in variants)
            {
                var rows = attribute.Where(r => r.Variant == variant).ToList();
                html.AppendLine($"<tr><td>{E(variant)}</td><td>{rows.Average(r => r.BestF1):F3}</td><td>{rows.Count(r => r.Splitting >= 2)} of {rows.Count}</td>" +
                                $"<td>{rows.Count(r => r.Splitting == 0)} of {rows.Count}</td><td>{rows.Average(r => r.MaxCosine):F3}</td></tr>");
            }
            html.AppendLine("</table>");
            RecoveryResult? At(int row, int column) => cell.GetValueOrDefault((variants[row], values[column]));
            html.AppendLine(Heatmap.Render($"{node}: best latent's F1 per {A(attribute.Key)} value", values, variants,
                (row, column) => At(row, column)?.BestF1 ?? double.NaN,
                (row, column) => At(row, column) is { } r
                    ? $"{r.Value}, {r.Variant}: F1 {F3(r.BestF1)}, {r.Splitting:0} latents ≥ 0.5, cosine {F3(r.MaxCosine)}"
                    : $"{values[column]}, {variants[row]}: —"));
        }
    }

    /// <summary>Per cross-section of several nodes this node is in: each method with the node edited alone, against all nodes edited.</summary>
    private static void EditShare(StringBuilder html, RunResults run, string node)
    {
        foreach (var section in run.NodeEdits.Where(r => r.Node == node).GroupBy(r => r.CrossSection))
        {
            var together = run.Edits.Where(e => e.CrossSection == section.Key).ToList();
            string label = together.FirstOrDefault()?.Label ?? section.Key;
            html.AppendLine($"<table><tr><th>in <a href=\"#{Anchor("cs", section.Key)}\">{E(label)}</a></th><th>variant</th>" +
                            $"<th>edit accuracy, this node alone ({section.First().EditAccuracy.Count} prompts)</th>" +
                            $"<th>all the cross-section's nodes ({together.FirstOrDefault()?.EditAccuracy.Count} prompts)</th><th>weight removed here</th></tr>");
            foreach (var r in section)
            {
                var all = together.FirstOrDefault(e => e.Method == r.Method && e.Variant == r.Variant);
                html.AppendLine($"<tr><td>{E(r.Method)}</td><td>{E(r.Variant)}</td><td>{Interval(r.EditAccuracy, "F3")}</td>" +
                                $"<td>{(all is null ? "—" : Interval(all.EditAccuracy, "F3"))}</td><td>{Interval(r.WeightRemoved, "F3")}</td></tr>");
            }
            html.AppendLine("</table>");
        }
    }

    /// <summary>
    /// A cross-section's edit accuracy per node edited alone (rows, linking to the node's section) and method
    /// (columns): where in the cross-section a method's edit falls short. Empty for a cross-section of one node.
    /// </summary>
    public static string AloneHeatmap(RunResults run, string crossSection, string label)
    {
        var rows = run.NodeEdits.Where(r => r.CrossSection == crossSection).ToList();
        if (rows.Count == 0) return "";
        var nodes = rows.Select(r => r.Node).Distinct().ToList();
        var methods = rows.Select(r => (r.Method, r.Variant)).Distinct().ToList();
        var cell = rows.ToDictionary(r => (r.Node, r.Method, r.Variant));
        string Method((string Method, string Variant) m) => m.Variant == "-" ? m.Method : $"{m.Method} {m.Variant}";
        return Heatmap.Render($"{label}: edit accuracy with one node edited alone", [.. methods.Select(Method)], nodes,
            (row, column) => cell[(nodes[row], methods[column].Method, methods[column].Variant)].EditAccuracy.Mean,
            (row, column) => $"{nodes[row]} alone, {Method(methods[column])}: edit accuracy " +
                             $"{cell[(nodes[row], methods[column].Method, methods[column].Variant)].EditAccuracy}",
            (row, _) => "#" + Anchor("node", nodes[row]));
    }
}
