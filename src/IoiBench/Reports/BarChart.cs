namespace IoiBench.Reports;

/// <summary>One bar: its label, value, 95% interval (NaN: none) and colour, the tooltip, and a link a click follows.</summary>
public sealed record Bar(string Label, double Value, double Lower, double Upper, string Colour, string Title)
{
    public string? Link { get; init; }
}

/// <summary>
/// A horizontal bar chart in SVG over [min, max] (default [0, 1]): one bar per row, drawn from 0, with its interval as a
/// whisker, and reference levels drawn as dashed vertical lines across all bars (e.g. no intervention and the
/// counterfactual patch).
/// </summary>
public static class BarChart
{
    public static string Render(string title, string axisLabel, IReadOnlyList<Bar> bars, IReadOnlyList<(string Label, double Value)> levels,
        double min = 0, double max = 1)
    {
        const double left = 170, top = 34, plot = 380, row = 18, right = 200;
        double height = top + bars.Count * row + 46;
        var svg = new SvgDocument(left + plot + right, height);
        double X(double v) => left + (Math.Clamp(v, min, max) - min) / (max - min) * plot;
        double bottom = top + bars.Count * row;

        svg.Text(left + plot / 2, 20, title, 14, "middle", bold: true);
        int steps = min < 0 && max > 0 ? 4 : 5;   // a tick at 0 when the range spans it (e.g. [−1, 1])
        for (int t = 0; t <= steps; t++)
        {
            double v = min + (max - min) * t / steps;
            svg.Line(X(v), top, X(v), bottom, "#eee").Text(X(v), bottom + 14, v.ToString("0.#"), 10, "middle");
        }
        for (int i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            double y = top + i * row;
            svg.Text(left - 6, y + row * 0.7, bar.Label, 11, "end");
            if (!double.IsFinite(bar.Value)) continue;
            double from = X(Math.Max(min, 0)), to = X(bar.Value);
            svg.Rect(Math.Min(from, to), y + 3, Math.Abs(to - from), row - 6, bar.Colour, bar.Title, bar.Link);
            if (double.IsFinite(bar.Lower) && double.IsFinite(bar.Upper))
                svg.Line(X(bar.Lower), y + row / 2, X(bar.Upper), y + row / 2, "#222", 1.2);
        }
        svg.Line(X(Math.Max(min, 0)), top, X(Math.Max(min, 0)), bottom, "#444").Line(left, bottom, left + plot, bottom, "#444");
        svg.Text(left + plot / 2, bottom + 32, axisLabel, 12, "middle");
        double legendY = top + 10;
        foreach (var (label, value) in levels.Where(l => double.IsFinite(l.Value)))
        {
            svg.DashedLine(X(value), top, X(value), bottom, "#555");
            svg.DashedLine(left + plot + 12, legendY - 4, left + plot + 30, legendY - 4, "#555")
               .Text(left + plot + 36, legendY, $"{label} {value:F3}", 11);
            legendY += 18;
        }
        return svg.ToString();
    }
}
