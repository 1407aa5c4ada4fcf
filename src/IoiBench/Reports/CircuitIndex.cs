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
/// links to its drill-down section and carries one coloured mark per cross-section it belongs to, linking to that
/// cross-section's leaderboard; then a row per node with its cross-sections and the supervised dictionary's quality
/// there.
/// </summary>
public static class CircuitIndex
{
    public static void Append(StringBuilder html, RunResults run, string heading)
    {
        if (run.CrossSections.Count == 0) return;
        var nodes = Nodes(run);
        int layers = nodes.Max(n => n.Layer) + 1;
        var heads = nodes.Where(n => !n.HeadHook.WholeLayer).Select(n => n.Head).Distinct().Order().ToList();
        bool wholeLayer = nodes.Any(n => n.HeadHook.WholeLayer);
        html.AppendLine(heading + "<p class=\"note\">Every node of the sites file by layer and head; a node links to its section, " +
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
                row.Append("<td>" + string.Join("<br>", here.Select(n => Cell(run, n))) + "</td>");
            }
            html.AppendLine(row + "</tr>");
        }
        html.AppendLine("</table>");
        NodeRows(html, run, nodes);
    }

    /// <summary>Every node a run covers (its cross-sections', its selections', its dictionaries'), by layer and then name.</summary>
    public static List<SiteNode> Nodes(RunResults run) =>
        [.. run.CrossSections.SelectMany(c => c.Nodes).Concat(run.Selections.Select(s => s.Node)).Concat(run.Dictionaries.Select(d => d.Node))
            .Distinct().OrderBy(n => n.Layer).ThenBy(n => n.ToString(), StringComparer.Ordinal)];

    /// <summary>
    /// Per node: a link to its section, its cross-sections, and the supervised dictionary's explained variance,
    /// relative error and mean attribute weights on test.
    /// </summary>
    private static void NodeRows(StringBuilder html, RunResults run, List<SiteNode> nodes)
    {
        html.AppendLine("<table><tr><th>node</th><th>cross-sections</th><th>supervised EV</th><th>relative error</th><th>w IO</th>" +
                        "<th>w S</th><th>w Pos</th></tr>");
        foreach (var node in nodes)
        {
            string name = node.ToString();
            var quality = run.Dictionaries.FirstOrDefault(d => d.Node == node);
            string F(double? v) => F3(v ?? double.NaN);
            html.AppendLine($"<tr id=\"{RunHtmlReport.Anchor("site", name)}\"><td><a href=\"#{RunHtmlReport.Anchor("node", name)}\">{E(name)}</a></td>" +
                            $"<td>{Marks(run, node, labels: true)}</td><td>{F(quality?.ExplainedVariance)}</td><td>{F(quality?.RelativeError)}</td>" +
                            $"<td>{F(quality?.IoWeight)}</td><td>{F(quality?.SWeight)}</td><td>{F(quality?.PosWeight)}</td></tr>");
        }
        html.AppendLine("</table>");
    }

    private static string Cell(RunResults run, SiteNode node)
    {
        string name = $"{node.Hook.SiteName()}@{node.Position.Name()}";
        var quality = run.Dictionaries.FirstOrDefault(d => d.Node == node);
        string title = quality is null ? node.ToString()
            : $"{node}: supervised EV {quality.ExplainedVariance.ToString("F3", CultureInfo.InvariantCulture)}";
        return $"<a href=\"#{RunHtmlReport.Anchor("node", node.ToString())}\" title=\"{E(title)}\">{E(name)}</a>" + Marks(run, node, labels: false);
    }

    /// <summary>A coloured mark per cross-section the node belongs to (with its label), each linking to its leaderboard.</summary>
    public static string Marks(RunResults run, SiteNode node, bool labels) =>
        string.Join(" ", run.CrossSections.Select((c, i) => (c, i)).Where(x => x.c.Nodes.Contains(node))
            .Select(x => $"<a href=\"#{RunHtmlReport.Anchor("cs", x.c.Name)}\">{Mark(x.c, Colour(x.i))}{(labels ? " " + E(x.c.Label) : "")}</a>"));

    private static string Colour(int section) => RunHtmlReport.Palette[section % RunHtmlReport.Palette.Length];

    private static string Mark(CrossSection section, string colour) =>
        $"<span title=\"{E(section.Label)}\" style=\"display:inline-block;width:9px;height:9px;margin-left:3px;background:{colour}\"></span>";
}
