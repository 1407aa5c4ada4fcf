using System.Globalization;
using System.Net;
using System.Text;
using IoiBench.Prompts;
using IoiBench.Runs;
using IoiBench.Saes;

namespace IoiBench.Reports;

/// <summary>
/// The self-contained <c>report.html</c> of a run: provenance and links to every section, cross-section and node; the
/// circuit index (<see cref="CircuitIndex"/>); edit accuracy against weight removed for the interpretation-agnostic and
/// -aware edits (as in the reference's figures); the leaderboard tables, each with a bar chart of edit accuracy per
/// method, the trade-off plot and its nodes edited alone; error pathology; sparse probing across every node; feature
/// recovery per cross-section; L0, LD recovered and explained variance against the distance edits leave to the
/// counterfactual, and per node their rank correlations; and a section per node (<see cref="NodeSections"/>). Inline
/// SVG, no scripts; a point or bar that stands for a node links to its section.
/// </summary>
public static class RunHtmlReport
{
    /// <summary>Matplotlib's tab10 without its greys: SAE variants take them in registry order, other methods after.</summary>
    internal static readonly string[] Palette =
        ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"];

    /// <summary>The subspace baselines' colours (matplotlib's tab20b darks), apart from the variants'.</summary>
    private static readonly string[] BaselinePalette = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#17becf"];

    internal static string Colour(string key) => key switch
    {
        "supervised" => "#111111",
        "none" => "#aaaaaa",
        _ when BaselineEdits.Methods.ToList().IndexOf(key) is var b and >= 0 => BaselinePalette[b % BaselinePalette.Length],
        _ when SaeVariants.All.ToList().FindIndex(v => v.Name == key) is var i and >= 0 => Palette[i % Palette.Length],
        _ => Palette[(SaeVariants.All.Count + (int)(Fnv(key) % 4)) % Palette.Length],
    };

    /// <summary>A stable hash of a method's name (string.GetHashCode changes from run to run).</summary>
    private static uint Fnv(string text) => text.Aggregate(2166136261u, (hash, c) => (hash ^ c) * 16777619u);

    public static string Render(RunResults run)
    {
        var p = run.Provenance;
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>IoiBench report: " + E(p.RunId) + "</title>");
        html.AppendLine("<style>body{font-family:sans-serif;max-width:1400px;margin:24px auto;color:#222}table{border-collapse:collapse;margin:8px 0 20px}" +
                        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}" +
                        ".plots{display:flex;flex-wrap:wrap;gap:12px}.note{color:#555;font-size:13px}summary{cursor:pointer;margin:6px 0}</style></head><body>");
        html.AppendLine($"<h1>IoiBench: {E(p.RunId)}</h1>");
        html.AppendLine($"<p class=\"note\">Model <code>{E(p.Model)}</code> ({E(p.ModelHash[..12])}, {E(p.Basis)} basis), dataset {E(p.DatasetHash[..12])}, " +
                        $"seed {p.Seed}, preset <code>{E(p.Preset)}</code>, SAEs trained on {E(p.SaeTraining)}, SAE selection on {E(p.Selection)}, " +
                        $"IoiBench {E(p.Version)}, finished {p.Finished:u}. Intervals: 95% bootstrap over test prompts. " +
                        "Every metric is defined in docs/metrics.md.</p>");
        var body = new StringBuilder();
        CircuitIndex.Append(body, run, H2("Circuit"));
        EditPlots(body, run);
        LeaderboardTables(body, run);
        SeedSection(body, run);
        PathologySection(body, run);
        ProbingSection(body, run);
        RecoverySection(body, run);
        SelectionPlots(body, run);
        RankCorrelations(body, run);
        NodeSections.Append(body, run, H2("Per-site drill-down"));
        ImportedSection(body, run);
        if (run.Excluded.Count > 0)
            body.AppendLine(H2("Excluded SAEs") + "<ul>" + string.Concat(run.Excluded.Select(x =>
                $"<li>{E(x.Node)}, {E(x.Variant)} {E(x.Sae == "*" ? "(all)" : x.Sae)}: {E(x.Reason)}</li>")) + "</ul>");
        Contents(html, run, body.ToString());
        html.Append(body).AppendLine("</body></html>");
        return html.ToString();
    }

    private static void ImportedSection(StringBuilder html, RunResults run)
    {
        if (run.Imported.Count == 0) return;
        html.AppendLine(H2("Imported SAEs") + "<p class=\"note\">SAEs read from folders (ioibench score): each is one candidate at every " +
                        "node at its hook. The hash is SHA-256 over the folder's file names and contents.</p>");
        html.AppendLine("<table><tr><th>SAE</th><th>format</th><th>hook</th><th>trained in basis</th><th>nodes</th><th>folder</th>" +
                        "<th>files (SHA-256)</th></tr>");
        foreach (var x in run.Imported)
            html.AppendLine($"<tr><td>{E(x.Name)}</td><td>{E(x.Format)}</td><td>{E(x.Hook)}</td><td>{E(x.Basis)}</td>" +
                            $"<td>{E(x.Nodes.Count == 0 ? "none" : string.Join(", ", x.Nodes))}</td><td>{E(x.Directory)}</td>" +
                            $"<td><code>{E(x.FileHash)}</code></td></tr>");
        html.AppendLine("</table>");
    }

    /// <summary>A section's heading, with the id the contents link to.</summary>
    private static string H2(string title) => $"<h2 id=\"{Anchor("sec", title)}\">{E(title)}</h2>";

    /// <summary>An HTML id for a cross-section's or a node's section: its name with every other character a dash.</summary>
    internal static string Anchor(string kind, string name) =>
        kind + "-" + string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));

    /// <summary>Links to the nodes' drill-down sections.</summary>
    internal static string NodeLinks(IEnumerable<Sites.SiteNode> nodes) =>
        string.Join(" · ", nodes.Select(n => $"<a href=\"#{Anchor("node", n.ToString())}\">{E(n.ToString())}</a>"));

    /// <summary>Links to every section, to each cross-section's leaderboard and to each node's drill-down section.</summary>
    private static void Contents(StringBuilder html, RunResults run, string body)
    {
        var sections = System.Text.RegularExpressions.Regex.Matches(body, "<h2 id=\"([^\"]+)\">([^<]+)</h2>");
        html.AppendLine("<p class=\"note\">Sections: " +
                        string.Join(" · ", sections.Select(m => $"<a href=\"#{m.Groups[1].Value}\">{m.Groups[2].Value}</a>")) + "</p>");
        html.AppendLine("<p class=\"note\">Cross-sections: " + string.Join(" · ", run.Edits.GroupBy(r => r.CrossSection).Select(g =>
            $"<a href=\"#{Anchor("cs", g.Key)}\">{E(g.First().Label)}</a> ({A(g.First().Attribute)})")) + "</p>");
        html.AppendLine("<p class=\"note\">Nodes: " + NodeLinks(CircuitIndex.Nodes(run)) + "</p>");
        var attributes = run.Probes.Select(p => p.Attribute).Distinct().ToList();
        if (attributes.Count > 0)
            html.AppendLine("<p class=\"note\">Attributes (where each is decodable): " +
                            string.Join(" · ", attributes.Select(a => $"<a href=\"#{Anchor("attr", A(a))}\">{A(a)}</a>")) + "</p>");
    }

    private static void EditPlots(StringBuilder html, RunResults run)
    {
        var results = run.Edits;
        var sections = results.Select(r => r.CrossSection).Distinct().ToList();
        var shapes = sections.Select((s, i) => (results.First(r => r.CrossSection == s).Label, i)).ToList();
        html.AppendLine(H2("Edit accuracy against weight removed") + "<p class=\"note\">Each point is one method on one cross-section; " +
                        "the ideal is high accuracy with weight removed close to the supervised features'. The subspace baselines " +
                        "(DiffMean, PCA, probe, random and DAS directions) are in both. Hover a point for its values.</p><div class=\"plots\">");
        foreach (var (method, title) in new[] { ("agnostic", "Interpretation-agnostic (greedy, n = 2)"), ("aware", "Interpretation-aware (F1, 1 + 1)") })
        {
            bool Shown(EditResult r) => r.Method == method || r.Method == "supervised" || r.Method == "none" || BaselineEdits.Methods.Contains(r.Method);
            var points = results.Where(Shown).Select(r =>
            {
                string key = r.Method == method ? r.Variant : r.Method;
                return new ScatterPoint(r.EditAccuracy.Mean, double.IsNaN(r.WeightRemoved.Mean) ? 0 : r.WeightRemoved.Mean, Colour(key), sections.IndexOf(r.CrossSection),
                    $"{r.Label}, {key}: accuracy {r.EditAccuracy}, weight removed {r.WeightRemoved}",
                    r.EditAccuracy.Lower, r.EditAccuracy.Upper, r.WeightRemoved.Lower, r.WeightRemoved.Upper);
            }).ToList();
            var legend = results.Where(r => r.Method == method).Select(r => r.Variant).Distinct()
                .Concat(["supervised", "none", .. BaselineEdits.Methods.Where(m => results.Any(r => r.Method == m))]).Select(k => (k, Colour(k))).ToList();
            html.AppendLine(ScatterPlot.Render(title, "edit accuracy", "weight removed", points, legend, shapes, (0, 1), (0, 1)));
        }
        html.AppendLine("</div>");
    }

    private static void LeaderboardTables(StringBuilder html, RunResults run)
    {
        var columns = LeaderboardColumns.For([run], LeaderboardColumns.Default);
        html.AppendLine(H2("Leaderboard"));
        foreach (var section in run.Edits.GroupBy(r => r.CrossSection))
        {
            var first = section.First();
            html.AppendLine($"<h3 id=\"{Anchor("cs", first.CrossSection)}\">{E(first.Label)} <span class=\"note\">({E(first.CrossSection)}, " +
                            $"attribute {A(first.Attribute)})</span></h3>");
            html.AppendLine("<table><tr><th>method</th><th>variant</th>" + string.Concat(columns.Select(c => $"<th>{E(c.Header)}</th>")) + "</tr>");
            foreach (var r in section.OrderByDescending(r => r.EditAccuracy.Mean))
                html.AppendLine($"<tr><td>{E(r.Method)}</td><td>{E(r.Variant)}</td>" + string.Concat(columns.Select(c => $"<td>{E(c.Cell(run, r))}</td>")) + "</tr>");
            html.AppendLine("</table>");
            if (run.DasTraining.FirstOrDefault(d => d.CrossSection == first.CrossSection) is { } das)
                html.AppendLine($"<p class=\"note\">{E(Leaderboard.DasTrainingLine(das))}</p>");
            if (run.CrossSections.FirstOrDefault(c => c.Name == first.CrossSection) is { } nodes)
                html.AppendLine($"<p class=\"note\">Nodes: {NodeLinks(nodes.Nodes)}</p>");
            html.AppendLine("<div class=\"plots\">" + EditAccuracyBars(section.ToList()) + TradeOff(section.ToList()) +
                            NodeSections.AloneHeatmap(run, first.CrossSection, first.Label) + "</div>");
        }
    }

    /// <summary>
    /// A cross-section's edit accuracy per method (intervals as whiskers), best first, with no intervention and the
    /// counterfactual patch as reference levels.
    /// </summary>
    private static string EditAccuracyBars(IReadOnlyList<EditResult> rows)
    {
        double Level(string method) => rows.FirstOrDefault(r => r.Method == method)?.EditAccuracy.Mean ?? double.NaN;
        var bars = rows.Where(r => r.Method is not ("none" or "counterfactual patch")).OrderByDescending(r => r.EditAccuracy.Mean)
            .Select(r =>
            {
                string label = r.Variant == "-" ? r.Method : $"{r.Method} {r.Variant}";
                string colour = Colour(r.Variant == "-" ? r.Method : r.Variant);
                return new Bar(label, r.EditAccuracy.Mean, r.EditAccuracy.Lower, r.EditAccuracy.Upper, colour, $"{label}: {r.EditAccuracy}");
            }).ToList();
        return BarChart.Render($"{rows[0].Label}: edit accuracy", "edit accuracy", bars,
            [("none", Level("none")), ("counterfactual patch", Level("counterfactual patch"))]);
    }

    /// <summary>
    /// A cross-section's edit accuracy against weight removed for every method, intervals as whiskers, with the
    /// supervised edit's two intervals shaded: a method inside both bands does what the supervised features do.
    /// </summary>
    private static string TradeOff(IReadOnlyList<EditResult> rows)
    {
        string[] kinds = ["agnostic", "aware", "other"];
        int Shape(EditResult r) => r.Method == "agnostic" ? 0 : r.Method == "aware" ? 1 : 2;
        string Key(EditResult r) => r.Variant == "-" ? r.Method : r.Variant;
        var shown = rows.Where(r => double.IsFinite(r.WeightRemoved.Mean)).ToList();
        var points = shown.Select(r => new ScatterPoint(r.EditAccuracy.Mean, r.WeightRemoved.Mean, Colour(Key(r)), Shape(r),
            $"{r.Method}{(r.Variant == "-" ? "" : " " + r.Variant)}: accuracy {r.EditAccuracy}, weight removed {r.WeightRemoved}",
            r.EditAccuracy.Lower, r.EditAccuracy.Upper, r.WeightRemoved.Lower, r.WeightRemoved.Upper)).ToList();
        var bands = rows.Where(r => r.Method == "supervised").SelectMany(r => new[]
        {
            new ScatterBand(true, r.EditAccuracy.Lower, r.EditAccuracy.Upper, "#fde3c8", $"supervised edit accuracy {r.EditAccuracy}"),
            new ScatterBand(false, r.WeightRemoved.Lower, r.WeightRemoved.Upper, "#fde3c8", $"supervised weight removed {r.WeightRemoved}"),
        }).ToList();
        var legend = shown.Select(Key).Distinct().Select(k => (k, Colour(k))).ToList();
        return ScatterPlot.Render($"{rows[0].Label}: accuracy against weight removed", "edit accuracy", "weight removed", points, legend,
            [.. kinds.Select((k, i) => (k, i)).Where(k => shown.Any(r => Shape(r) == k.i))], (0, 1), (0, 1), bands: bands);
    }

    /// <summary>Each SAE row's edit accuracy per training seed, its spread, and each cross-section's rank stability.</summary>
    private static void SeedSection(StringBuilder html, RunResults run)
    {
        var rows = SeedSpread.Rows(run);
        if (run.Seeds.Count < 2 || rows.Count == 0) return;
        var stability = SeedSpread.Stability(run).ToDictionary(s => s.CrossSection);
        html.AppendLine(H2("Seed spread") + $"<p class=\"note\">Every SAE trained with each of the preset's {run.Seeds.Count} seeds, selected and " +
                        "edited anew; the leaderboard's rows are the first seed's. Edit accuracy per seed, its sample standard deviation and the " +
                        "weight removed's; Kendall's τ compares two seeds' rankings of a cross-section's SAE rows, averaged over the pairs of seeds.</p>");
        foreach (var section in rows.GroupBy(r => r.CrossSection))
        {
            string tau = stability.TryGetValue(section.Key, out var s) ? $", rank stability τ = {s.KendallTau:F2}" : "";
            html.AppendLine($"<h3>{E(section.Key)}<span class=\"note\">{E(tau)}</span></h3><table><tr><th>method</th><th>variant</th>" +
                            string.Concat(run.Seeds.Select(seed => $"<th>seed {seed}</th>")) + "<th>sd</th><th>weight rm sd</th></tr>");
            foreach (var row in section)
                html.AppendLine($"<tr><td>{E(row.Method)}</td><td>{E(row.Variant)}</td>" +
                                string.Concat(run.Seeds.Select(seed => row.Values.Any(v => v.Seed == seed) ? $"<td>{row.Values.First(v => v.Seed == seed).EditAccuracy:F3}</td>" : "<td>—</td>")) +
                                $"<td>{row.EditAccuracySd:F3}</td><td>{row.WeightRemovedSd:F3}</td></tr>");
            html.AppendLine("</table>");
        }
    }

    private static void PathologySection(StringBuilder html, RunResults run)
    {
        if (run.Pathology.Count == 0) return;
        html.AppendLine(H2("Error pathology") + "<p class=\"note\">Each node (and each cross-section's nodes together) replaced by its reconstruction, " +
                        "and separately by a random point at the same distance from the original (ε-random). KL: KL(clean ‖ patched) of the next-token " +
                        "distribution in nats; |ΔLD|: the absolute change of the logit difference. A ratio above 1 means the reconstruction error moves " +
                        "the model more than random noise of the same size. On the plot, points above the diagonal are pathological.</p><div class=\"plots\">");
        var nodes = run.Pathology.Where(r => r.Kind == ScopeKind.Node).ToList();
        var methods = nodes.Select(r => r.Method).Distinct().ToList();
        var attributes = nodes.Select(r => r.Attribute).Distinct().ToList();
        // KL spans orders of magnitude across sites: both axes in log10, floored at 10⁻⁸ (an exact reconstruction).
        double Log(double kl) => Math.Log10(Math.Max(kl, 1e-8));
        var logs = nodes.SelectMany(r => new[] { Log(r.Values.KlReconstruction.Mean), Log(r.Values.KlRandom.Mean) }).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        var range = (Math.Floor(logs.Min()), Math.Ceiling(logs.Max() + 1e-9));
        html.AppendLine(ScatterPlot.Render("KL of the reconstruction against ε-random (per node)", "log10 KL ε-random (nats)", "log10 KL reconstruction (nats)",
            [.. nodes.Select(r => new ScatterPoint(Log(r.Values.KlRandom.Mean), Log(r.Values.KlReconstruction.Mean), Colour(r.Method), attributes.IndexOf(r.Attribute),
                $"{r.Scope} ({A(r.Attribute)}), {r.Method} {r.Sae}: KL {r.Values.KlReconstruction.Mean:G3}, ε-random {r.Values.KlRandom.Mean:G3}, ratio {r.Values.KlRatio:F2}"))],
            [.. methods.Select(m => (m, Colour(m)))], [.. attributes.Select((a, i) => (A(a), i))], range, range, diagonal: true));
        html.AppendLine("</div>");
        foreach (var kind in new[] { ScopeKind.CrossSection, ScopeKind.Node })
        {
            html.AppendLine(kind == ScopeKind.CrossSection ? "<h3>Per cross-section (its nodes replaced together)</h3>" : "<details><summary>Per node</summary>");
            html.AppendLine("<table><tr><th>scope</th><th>method</th><th>attribute</th><th>SAE</th><th>relative error</th><th>KL reconstruction</th><th>KL ε-random</th>" +
                            "<th>KL ratio</th><th>|ΔLD| reconstruction</th><th>|ΔLD| ε-random</th><th>|ΔLD| ratio</th></tr>");
            foreach (var r in run.Pathology.Where(r => r.Kind == kind))
                html.AppendLine($"<tr><td>{E(r.Scope)}</td><td>{E(r.Method)}</td><td>{A(r.Attribute)}</td><td>{E(r.Sae)}</td><td>{r.Values.RelativeError:F3}</td>" +
                                $"<td>{Interval(r.Values.KlReconstruction, "G3")}</td><td>{Interval(r.Values.KlRandom, "G3")}</td><td>{N(r.Values.KlRatio)}</td>" +
                                $"<td>{Interval(r.Values.LdChangeReconstruction, "F3")}</td><td>{Interval(r.Values.LdChangeRandom, "F3")}</td><td>{N(r.Values.LdChangeRatio)}</td></tr>");
            html.AppendLine(kind == ScopeKind.CrossSection ? "</table>" : "</table></details>");
        }
    }

    private static void ProbingSection(StringBuilder html, RunResults run)
    {
        if (run.Probes.Count == 0) return;
        html.AppendLine(H2("Sparse probing") + "<p class=\"note\">Test accuracy of logistic-regression probes (fitted on train) that read the attribute from " +
                        "the raw activations, the projections on the supervised features, or the SAE latents; k: the number of features kept, the best " +
                        "by class separation on train. Greener is higher. Hover a cell for the chosen features.</p>");
        var probeColumns = run.Probes.Select(p => (p.Method, p.K)).Distinct().ToList();
        string Header((string Method, int? K) c) => $"<th>{E(c.Method)}<br>{(c.K is { } k ? $"k={k}" : "all")}</th>";
        string CellOf(Runs.ProbeResult? probe) => probe is null ? "<td>—</td>"
            : $"<td style=\"background:{SvgDocument.Sequential(probe.TestAccuracy.Mean)}\" title=\"{E(string.Join(", ", probe.Chosen))}\">{probe.TestAccuracy.Mean:F3}</td>";
        foreach (var attribute in run.Probes.Select(p => p.Attribute).Distinct())
        {
            var rows = run.Probes.Where(p => p.Attribute == attribute).GroupBy(p => (p.Kind, p.Scope)).OrderBy(g => g.Key.Kind).ToList();
            int classes = rows.SelectMany(g => g).Max(p => p.Classes);
            html.AppendLine($"<h3 id=\"{Anchor("attr", A(attribute))}\">{A(attribute)} <span class=\"note\">({classes} classes on train)</span></h3>");
            html.AppendLine("<table><tr><th>scope</th>" + string.Concat(probeColumns.Select(Header)) + "</tr>");
            foreach (var group in rows)
                html.AppendLine($"<tr><td>{(group.Key.Kind == ScopeKind.CrossSection ? "<b>" + E(group.Key.Scope) + "</b>" : E(group.Key.Scope))}</td>" +
                                string.Concat(probeColumns.Select(c => CellOf(group.FirstOrDefault(p => p.Method == c.Method && p.K == c.K)))) + "</tr>");
            html.AppendLine("</table>");
        }
    }

    private static void RecoverySection(StringBuilder html, RunResults run)
    {
        if (run.Recovery.Count == 0) return;
        html.AppendLine(H2("Feature recovery") + "<p class=\"note\">Per value of the cross-section's attribute, means over its nodes of each node's selected " +
                        "SAE: the best latent's F1 as a detector of the value (train split), the number of latents with F1 ≥ 0.5 (more than one: the value " +
                        "is split), and the best cosine between a decoder row and the value's supervised feature.</p>");
        foreach (var section in run.Recovery.Where(r => r.Kind == ScopeKind.CrossSection).GroupBy(r => r.Scope))
        {
            var variants = section.Select(r => r.Variant).Distinct().ToList();
            html.AppendLine($"<h3>{E(section.Key)} <span class=\"note\">(attribute {A(section.First().Attribute)})</span></h3>");
            html.AppendLine("<table><tr><th>variant</th><th>mean best F1</th><th>mean latents F1 ≥ 0.5</th><th>values with none</th><th>MMCS</th></tr>");
            foreach (string variant in variants)
            {
                var rows = section.Where(r => r.Variant == variant).ToList();
                html.AppendLine($"<tr><td>{E(variant)}</td><td>{rows.Average(r => r.BestF1):F3}</td><td>{rows.Average(r => r.Splitting):F2}</td>" +
                                $"<td>{rows.Count(r => r.Splitting == 0)} of {rows.Count}</td><td>{rows.Average(r => r.MaxCosine):F3}</td></tr>");
            }
            var values = section.Select(r => r.Value).Distinct().ToList();
            html.AppendLine("</table>");
            // A cross-section of one node has that node's heatmap, in the node's section.
            if (run.CrossSections.FirstOrDefault(c => c.Name == section.Key) is { Nodes.Count: 1 } single)
                html.AppendLine($"<p class=\"note\">Its one node's F1 per value: {NodeLinks(single.Nodes)}.</p>");
            else
                html.AppendLine(Heatmap.Render($"{section.Key}: best latent's F1 per value", values, variants,
                    (row, column) => section.FirstOrDefault(r => r.Value == values[column] && r.Variant == variants[row])?.BestF1 ?? double.NaN));
            html.AppendLine("<details><summary>Per value</summary><table><tr><th>value</th>" +
                            string.Concat(variants.Select(v => $"<th>{E(v)} best F1</th><th>{E(v)} F1 ≥ 0.5</th><th>{E(v)} max cosine</th>")) + "</tr>");
            foreach (var value in section.GroupBy(r => r.Value))
                html.AppendLine($"<tr><td>{E(value.Key)}</td>" + string.Concat(variants.Select(v => value.FirstOrDefault(r => r.Variant == v) is { } r
                    ? $"<td>{r.BestF1:F3}</td><td>{r.Splitting:0.##}</td><td>{r.MaxCosine:F3}</td>" : "<td>—</td><td>—</td><td>—</td>")) + "</tr>");
            html.AppendLine("</table></details>");
        }
    }

    private static void SelectionPlots(StringBuilder html, RunResults run)
    {
        var selections = run.Selections;
        html.AppendLine(H2("Sparsity and reconstruction against edit quality") + "<p class=\"note\">One point per node, attribute and variant (its selected SAE): " +
                        "mean L2 distance from the agnostic edit to the counterfactual activation on test (lower is better). A click on a point " +
                        "opens its node's section.</p><div class=\"plots\">");
        var variants = selections.Select(s => s.Variant).Distinct().Order(StringComparer.Ordinal).ToList();
        var variantLegend = variants.Select(v => (v, Colour(v))).ToList();
        var attributes = selections.Select(s => s.Attribute).Distinct().ToList();
        var attributeShapes = attributes.Select((a, i) => (A(a), i)).ToList();
        ScatterPoint Point(NodeSelection s, double x) =>
            new(x, s.TestDistance, Colour(s.Variant), attributes.IndexOf(s.Attribute), $"{s.Node} ({s.Attribute}), {s.Variant} {s.Sae} epoch {s.Epoch}: L0 {s.L0:F1}, EV {s.ExplainedVariance:F3}, LD recovered {s.LdRecovered:F3}, distance {s.TestDistance:F3}")
            { Link = "#" + Anchor("node", s.Node.ToString()) };
        html.AppendLine(ScatterPlot.Render("L0 against distance", "L0 (test)", "distance to counterfactual", [.. selections.Select(s => Point(s, s.L0))], variantLegend, attributeShapes));
        html.AppendLine(ScatterPlot.Render("LD recovered against distance", "|1 − LD recovered| (node alone)", "distance to counterfactual",
            [.. selections.Select(s => Point(s, Math.Abs(1 - s.LdRecovered)))], variantLegend, attributeShapes));
        html.AppendLine(ScatterPlot.Render("Explained variance against distance", "explained variance (test)", "distance to counterfactual",
            [.. selections.Select(s => Point(s, s.ExplainedVariance))], variantLegend, attributeShapes));
        html.AppendLine("</div>");
    }

    /// <summary>
    /// Per node, the mean over attributes and variants of Spearman's ρ between the candidates' distance to the
    /// counterfactual and their L0, and their |1 − LD recovered|: which of the two tracks edit quality, site by site.
    /// </summary>
    private static void RankCorrelations(StringBuilder html, RunResults run)
    {
        var nodes = run.Selections.GroupBy(s => s.Node.ToString()).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Node: g.Key, L0: Mean(g.Select(s => s.SpearmanL0)), Ld: Mean(g.Select(s => s.SpearmanLd))))
            .Where(n => double.IsFinite(n.L0) || double.IsFinite(n.Ld)).ToList();
        if (nodes.Count == 0) return;
        html.AppendLine(H2("Sparsity or loss recovered: which tracks edit quality") + "<p class=\"note\">Per node, over the candidates " +
                        "(λ or k × checkpoint) of each attribute and variant, Spearman's ρ of the distance the agnostic edits leave to the " +
                        "counterfactual with L0 and with |1 − LD recovered|, averaged over attributes and variants (undefined ρ left out). " +
                        "A more negative ρ with L0 says sparser candidates edit better.</p><div class=\"plots\">");
        Bar Row(string node, double rho, string colour) =>
            new(node, rho, double.NaN, double.NaN, colour, $"{node}: ρ = {N(rho)}") { Link = "#" + Anchor("node", node) };
        html.AppendLine(BarChart.Render("ρ(distance, L0)", "Spearman's ρ", [.. nodes.Select(n => Row(n.Node, n.L0, Palette[0]))], [], -1, 1));
        html.AppendLine(BarChart.Render("ρ(distance, |1 − LD recovered|)", "Spearman's ρ", [.. nodes.Select(n => Row(n.Node, n.Ld, Palette[3]))],
            [], -1, 1));
        html.AppendLine("</div>");
    }

    private static double Mean(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        return finite.Count == 0 ? double.NaN : finite.Average();
    }

    internal static string Interval(Metrics.Estimate e, string format) =>
        double.IsNaN(e.Mean) ? "—" : $"{e.Mean.ToString(format)} <span class=\"note\">[{e.Lower.ToString(format)}, {e.Upper.ToString(format)}]</span>";

    /// <summary>A number to three decimals, or a dash where it is undefined.</summary>
    internal static string F3(double value) => double.IsFinite(value) ? value.ToString("F3", CultureInfo.InvariantCulture) : "—";

    /// <summary>A number, or a dash where it is undefined (e.g. a correlation with a constant side).</summary>
    internal static string N(double value) => double.IsFinite(value) ? value.ToString("F2") : "—";

    internal static string A(IoiAttribute attribute) => attribute.ToString().ToUpperInvariant();

    internal static string E(string text) => WebUtility.HtmlEncode(text);
}
