using System.Text.RegularExpressions;
using System.Xml.Linq;
using IoiBench.Reports;

namespace IoiBench.Tests.Reports;

/// <summary>The plots' SVG: well-formed, each point one mark with one tooltip, links where asked for.</summary>
public class SvgPlotTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void APairedScatterDrawsEachPointInBothPanelsAsOneMarkWithOneTooltip()
    {
        var points = new[]
        {
            new PairedPoint(1, 0.5, 2, "#111111", 0, "first"),
            new PairedPoint(3, 0.1, 4, "#222222", 6, "second"),
            new PairedPoint(double.NaN, 0.2, 1, "#333333", 0, "left out"),
        };
        var svg = XElement.Parse(ScatterPlot.RenderPair("pair", "L0", "LD", "distance", points, [("a", "#111111")], [("IO", 0)]));
        var marks = svg.Descendants(Svg + "g").Where(g => g.Element(Svg + "title") is { } t && t.Value is "first" or "second").ToList();
        Assert.Equal(2, marks.Count);
        Assert.Equal(2, marks[0].Elements(Svg + "circle").Count());
        Assert.Equal(2, marks[1].Elements(Svg + "polygon").Count());   // the star, in both panels
        // Same y (distance) in both panels; the right panel's x lies to the right of the left panel's.
        var (left, right) = (marks[0].Elements(Svg + "circle").First(), marks[0].Elements(Svg + "circle").Last());
        Assert.Equal((string?)left.Attribute("cy"), (string?)right.Attribute("cy"));
        Assert.True(double.Parse((string)right.Attribute("cx")!) > double.Parse((string)left.Attribute("cx")!) + 300);
        Assert.DoesNotContain("left out", svg.ToString());
    }

    [Fact]
    public void AHeatmapCellLinksWhereAskedAndSlantsLabelsTooLongForTheirColumn()
    {
        string html = Heatmap.Render("map", ["a rather long label", "another long label"], ["row 0", "row 1"], (r, c) => r * 0.5 + c * 0.25,
            link: (r, _) => r == 1 ? "#node-x" : null);
        var svg = XElement.Parse(html);
        var links = svg.Descendants(Svg + "a").ToList();
        Assert.Equal(2, links.Count);
        Assert.All(links, a => Assert.Equal("#node-x", (string?)a.Attribute("href")));
        Assert.Equal(2, svg.Descendants(Svg + "text").Count(t => ((string?)t.Attribute("transform"))?.StartsWith("rotate(-45") == true));
        Assert.Equal(4, Regex.Matches(html, "<title>").Count);
    }
}
