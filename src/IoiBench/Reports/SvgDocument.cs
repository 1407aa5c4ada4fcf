using System.Globalization;
using System.Security;
using System.Text;

namespace IoiBench.Reports;

/// <summary>A minimal SVG builder for self-contained plots (no scripts, no external fonts).</summary>
public sealed class SvgDocument(double width, double height)
{
    private readonly StringBuilder _body = new();
    private bool _markers;

    /// <summary>A coordinate to a tenth of a pixel: finer does not show, and a report holds tens of thousands of them.</summary>
    private static string F(double x) => x.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>A rectangle; with <paramref name="link"/> (a fragment such as "#node-…") a click on it follows the link.</summary>
    public SvgDocument Rect(double x, double y, double w, double h, string fill, string? title = null, string? link = null)
    {
        string rect = $"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(w)}\" height=\"{F(h)}\" fill=\"{fill}\"" +
                      (title is null ? "/>" : $"><title>{SecurityElement.Escape(title)}</title></rect>");
        _body.AppendLine(Linked(rect, link));
        return this;
    }

    private static string Linked(string element, string? link) =>
        link is null ? element : $"<a href=\"{SecurityElement.Escape(link)}\">{element}</a>";

    public SvgDocument Text(double x, double y, string text, double size = 12, string anchor = "start", string fill = "#222", bool bold = false, double rotate = 0)
    {
        string transform = rotate == 0 ? "" : $" transform=\"rotate({F(rotate)} {F(x)} {F(y)})\"";
        _body.AppendLine($"<text x=\"{F(x)}\" y=\"{F(y)}\" font-size=\"{F(size)}\" text-anchor=\"{anchor}\" fill=\"{fill}\"" +
                         $"{(bold ? " font-weight=\"bold\"" : "")}{transform}>{SecurityElement.Escape(text)}</text>");
        return this;
    }

    public SvgDocument Line(double x1, double y1, double x2, double y2, string stroke = "#888", double width = 1)
    {
        _body.AppendLine($"<line x1=\"{F(x1)}\" y1=\"{F(y1)}\" x2=\"{F(x2)}\" y2=\"{F(y2)}\" stroke=\"{stroke}\" stroke-width=\"{F(width)}\"/>");
        return this;
    }

    public SvgDocument DashedLine(double x1, double y1, double x2, double y2, string stroke = "#888", double width = 1.2)
    {
        _body.AppendLine($"<line x1=\"{F(x1)}\" y1=\"{F(y1)}\" x2=\"{F(x2)}\" y2=\"{F(y2)}\" stroke=\"{stroke}\" " +
                         $"stroke-width=\"{F(width)}\" stroke-dasharray=\"4 3\"/>");
        return this;
    }

    private static readonly double[][] Polygons =
    [
        [0, -1.2, 1.1, 0.9, -1.1, 0.9],                                                            // triangle
        [0, -1.3, 1.3, 0, 0, 1.3, -1.3, 0],                                                        // diamond
        [0, 1.2, 1.1, -0.9, -1.1, -0.9],                                                           // inverted triangle
        [-1, -0.4, -0.4, -0.4, -0.4, -1, 0.4, -1, 0.4, -0.4, 1, -0.4, 1, 0.4, 0.4, 0.4, 0.4, 1, -0.4, 1, -0.4, 0.4, -1, 0.4], // cross
        [0, -1.3, 0.38, -0.42, 1.24, -0.4, 0.56, 0.18, 0.76, 1.05, 0, 0.55, -0.76, 1.05, -0.56, 0.18, -1.24, -0.4, -0.38, -0.42], // star
        [-1.2, 0, 0.9, -1.1, 0.9, 1.1],                                                            // left-pointing triangle
    ];

    /// <summary>
    /// A marker of one of eight shapes (0 circle, 1 square, 2 triangle, 3 diamond, 4 inverted triangle, 5 cross, 6 star,
    /// 7 left-pointing triangle); with <paramref name="link"/> a click on it follows the link.
    /// </summary>
    public SvgDocument Marker(double x, double y, int shape, string fill, double size = 5, string? title = null, string? link = null) =>
        Markers([(x, y)], shape, fill, size, title, link);

    /// <summary>One mark drawn at several places (a point in two panels), with one colour, tooltip and link.</summary>
    public SvgDocument Markers(IReadOnlyList<(double X, double Y)> at, int shape, string fill, double size = 5, string? title = null,
        string? link = null)
    {
        _markers = true;
        var group = new StringBuilder($"<g class=\"m\" fill=\"{fill}\">");
        if (title is not null) group.Append($"<title>{SecurityElement.Escape(title)}</title>");
        shape %= 2 + Polygons.Length;
        foreach (var (x, y) in at)
        {
            if (shape == 0)
                group.Append($"<circle cx=\"{F(x)}\" cy=\"{F(y)}\" r=\"{F(size)}\"/>");
            else if (shape == 1)
                group.Append($"<rect x=\"{F(x - size)}\" y=\"{F(y - size)}\" width=\"{F(2 * size)}\" height=\"{F(2 * size)}\"/>");
            else
            {
                var p = Polygons[shape - 2];
                group.Append($"<polygon points=\"{string.Join(" ", Enumerable.Range(0, p.Length / 2).Select(k => $"{F(x + p[2 * k] * size)},{F(y + p[2 * k + 1] * size)}"))}\"/>");
            }
        }
        _body.AppendLine(Linked(group.Append("</g>").ToString(), link));
        return this;
    }

    public override string ToString() =>
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" " +
        $"font-family=\"sans-serif\">\n{(_markers ? MarkerStyle : "")}<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{_body}</svg>\n";

    /// <summary>The markers' common style, once per plot rather than on each of its markers.</summary>
    private const string MarkerStyle = "<style>.m{fill-opacity:0.85;stroke:#222;stroke-width:0.6}</style>\n";

    /// <summary>Blue (negative) – white – red (positive), saturating at ±<paramref name="scale"/>.</summary>
    public static string Diverging(double value, double scale)
    {
        double t = Math.Clamp(value / (scale == 0 ? 1 : scale), -1, 1);
        int fade = (int)(255 * (1 - Math.Abs(t)));
        return t >= 0 ? $"rgb(255,{fade},{fade})" : $"rgb({fade},{fade},255)";
    }

    /// <summary>White (0) to green (1).</summary>
    public static string Sequential(double value)
    {
        double t = Math.Clamp(value, 0, 1);
        return $"rgb({(int)(255 - 200 * t)},{(int)(255 - 90 * t)},{(int)(255 - 200 * t)})";
    }
}
