using System.Net;
using System.Text;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Runs;
using IoiBench.Sites;

namespace IoiBench.Reports;

/// <summary>
/// The report's map of the sites: a layers × heads table (a column more for the whole-layer nodes) in which each node
/// links to its drill-down and carries one coloured mark per cross-section it belongs to, linking to that
/// cross-section's leaderboard; a node's tooltip gives the supervised dictionary's relative reconstruction error there.
/// </summary>
public static class CircuitIndex
{
    private static readonly string[] Colours =
        ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79"];

    public static void Append(StringBuilder html, RunResults run, string heading)
    {
        if (run.CrossSections.Count == 0) return;
        var nodes = run.CrossSections.SelectMany(c => c.Nodes).Concat(run.Selections.Select(s => s.Node)).Distinct().ToList();
        var drilled = run.Selections.Select(s => s.Node).ToHashSet();
        int layers = nodes.Max(n => n.Layer) + 1;
        var heads = nodes.Where(n => !n.HeadHook.WholeLayer).Select(n => n.Head).Distinct().Order().ToList();
        bool wholeLayer = nodes.Any(n => n.HeadHook.WholeLayer);
        string Colour(int section) => Colours[section % Colours.Length];

        html.AppendLine(heading + "<p class=\"note\">Every node of the sites file by layer and head; a node links to its drill-down, " +
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
                row.Append("<td>" + string.Join("<br>", here.Select(n => Cell(run, n, drilled.Contains(n), Colour))) + "</td>");
            }
            html.AppendLine(row + "</tr>");
        }
        html.AppendLine("</table>");
    }

    private static string Cell(RunResults run, SiteNode node, bool drilled, Func<int, string> colour)
    {
        string name = $"{node.Hook.SiteName()}@{node.Position.Name()}";
        var supervised = run.Pathology.FirstOrDefault(p => p.Kind == ScopeKind.Node && p.Scope == node.ToString() && p.Method == "supervised");
        string title = supervised is null ? node.ToString()
            : $"{node}: supervised relative error {supervised.Values.RelativeError.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)}";
        string link = drilled ? $"<a href=\"#{RunHtmlReport.Anchor("node", node.ToString())}\" title=\"{E(title)}\">{E(name)}</a>"
            : $"<span title=\"{E(title)}\">{E(name)}</span>";
        return link + string.Concat(run.CrossSections.Select((c, i) => (c, i)).Where(x => x.c.Nodes.Contains(node))
            .Select(x => $"<a href=\"#{RunHtmlReport.Anchor("cs", x.c.Name)}\">{Mark(x.c, colour(x.i))}</a>"));
    }

    private static string Mark(CrossSection section, string colour) =>
        $"<span title=\"{E(section.Label)}\" style=\"display:inline-block;width:9px;height:9px;margin-left:3px;background:{colour}\"></span>";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
