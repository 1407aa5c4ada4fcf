using System.Globalization;
using System.Text;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Runs;
using IoiBench.Sites;
using static IoiBench.Reports.RunHtmlReport;

namespace IoiBench.Reports;

/// <summary>
/// The report's map of the sites: a layers × heads table (a column more for the whole-layer nodes) in which each node
/// links to its row below and carries one coloured mark per cross-section it belongs to, linking to that
/// cross-section's leaderboard; then a row per node with its cross-sections, the supervised dictionary's quality there
/// and links to its SAEs' drill-down and candidate plots.
/// </summary>
public static class CircuitIndex
{
    public static void Append(StringBuilder html, RunResults run, string heading)
    {
        if (run.CrossSections.Count == 0) return;
        var nodes = run.CrossSections.SelectMany(c => c.Nodes).Concat(run.Selections.Select(s => s.Node)).Distinct().ToList();
        var drilled = run.Selections.Select(s => s.Node).ToHashSet();
        int layers = nodes.Max(n => n.Layer) + 1;
        var heads = nodes.Where(n => !n.HeadHook.WholeLayer).Select(n => n.Head).Distinct().Order().ToList();
        bool wholeLayer = nodes.Any(n => n.HeadHook.WholeLayer);
        string Colour(int section) => RunHtmlReport.Palette[section % RunHtmlReport.Palette.Length];

        html.AppendLine(heading + "<p class=\"note\">Every node of the sites file by layer and head; a node links to its row below, " +
                        "each mark after it to a cross-section it belongs to: " + string.Join(" · ", run.CrossSections.Select((c, i) =>
                            $"{Mark(c, Colour(i))} <a href=\"#{RunHtmlReport.Anchor("cs", c.Name)}\">{E(c.Label)}</a>")) + "</p>");
        html.AppendLine("<table class=\"circuit\"><tr><th>layer</th>" + string.Concat(heads.Select(h => $"<th>head {h}</th>")) +
                        (wholeLayer ? "<th>whole layer</th>" : "") + "</tr>");
        for (int layer = 0; layer < layers; layer++)
        {
            var row = new StringBuilder($"<tr><td>{layer}</td>");
            foreach (int? head in heads.Select(h => (int?)h).Concat(wholeLayer ? [null] : []))
            {
                var here = nodes.Where(n => n.Layer == layer && (head is { } h ? !n.HeadHook.WholeLayer && n.Head == h : n.HeadHook.WholeLayer))
                    .OrderBy(n => n.ToString(), StringComparer.Ordinal);
                row.Append("<td>" + string.Join("<br>", here.Select(n => Cell(run, n, Colour))) + "</td>");
            }
            html.AppendLine(row + "</tr>");
        }
        html.AppendLine("</table>");
        NodeRows(html, run, nodes, drilled, Colour);
    }

    /// <summary>
    /// Per node: its cross-sections, the supervised dictionary's explained variance, relative error and mean attribute
    /// weights on test, and links to its SAEs' selection rows and candidate plots.
    /// </summary>
    private static void NodeRows(StringBuilder html, RunResults run, List<SiteNode> nodes, HashSet<SiteNode> drilled, Func<int, string> colour)
    {
        html.AppendLine("<table><tr><th>node</th><th>cross-sections</th><th>supervised EV</th><th>relative error</th><th>w IO</th>" +
                        "<th>w S</th><th>w Pos</th><th>SAEs</th></tr>");
        foreach (var node in nodes.OrderBy(n => n.Layer).ThenBy(n => n.ToString(), StringComparer.Ordinal))
        {
            string name = node.ToString();
            var quality = run.Dictionaries.FirstOrDefault(d => d.Node == node);
            string F(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("F3", CultureInfo.InvariantCulture) : "—";
            bool plotted = run.Selections.Any(s => s.Node == node && s.CandidateScores.Count > 0);
            string saes = !drilled.Contains(node) ? "—"
                : $"<a href=\"#{RunHtmlReport.Anchor("node", name)}\">selected</a>" +
                  (plotted ? $" · <a href=\"#{RunHtmlReport.Anchor("candidates", name)}\">candidates</a>" : "");
            html.AppendLine($"<tr id=\"{RunHtmlReport.Anchor("site", name)}\"><td>{E(name)}</td><td>{Marks(run, node, colour, labels: true)}</td>" +
                            $"<td>{F(quality?.ExplainedVariance)}</td><td>{F(quality?.RelativeError)}</td><td>{F(quality?.IoWeight)}</td>" +
                            $"<td>{F(quality?.SWeight)}</td><td>{F(quality?.PosWeight)}</td><td>{saes}</td></tr>");
        }
        html.AppendLine("</table>");
    }

    private static string Cell(RunResults run, SiteNode node, Func<int, string> colour)
    {
        string name = $"{node.Hook.SiteName()}@{node.Position.Name()}";
        var quality = run.Dictionaries.FirstOrDefault(d => d.Node == node);
        string title = quality is null ? node.ToString()
            : $"{node}: supervised EV {quality.ExplainedVariance.ToString("F3", CultureInfo.InvariantCulture)}";
        return $"<a href=\"#{RunHtmlReport.Anchor("site", node.ToString())}\" title=\"{E(title)}\">{E(name)}</a>" + Marks(run, node, colour, labels: false);
    }

    private static string Marks(RunResults run, SiteNode node, Func<int, string> colour, bool labels) =>
        string.Concat(run.CrossSections.Select((c, i) => (c, i)).Where(x => x.c.Nodes.Contains(node))
            .Select(x => $"<a href=\"#{RunHtmlReport.Anchor("cs", x.c.Name)}\">{Mark(x.c, colour(x.i))}{(labels ? " " + E(x.c.Label) : "")}</a> "));

    private static string Mark(CrossSection section, string colour) =>
        $"<span title=\"{E(section.Label)}\" style=\"display:inline-block;width:9px;height:9px;margin-left:3px;background:{colour}\"></span>";
}
