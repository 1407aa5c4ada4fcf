

namespace IoiBench.Reports;

/// <summary>One point of a scatter plot, with optional 95% intervals on both axes.</summary>
public sealed record ScatterPoint(double X, double Y, string Colour, int Shape, string Title,
    double XLower = double.NaN, double XUpper = double.NaN, double YLower = double.NaN, double YUpper = double.NaN);

/// <summary>A shaded band across a scatter plot: the x values from Lower to Upper (<see cref="AlongX"/>), or the y values.</summary>
public sealed record ScatterBand(bool AlongX, double Lower, double Upper, string Fill, string Title);

/// <summary>
/// A scatter plot in SVG: axes with ticks, optional shaded bands behind the points, points with interval whiskers,
/// legends for colours and shapes, and optionally the line y = x.
/// </summary>
public static class ScatterPlot
{
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ScatterPoint> points,
        IReadOnlyList<(string Label, string Colour)> colours, IReadOnlyList<(string Label, int Shape)> shapes,
        (double Min, double Max)? xRange = null, (double Min, double Max)? yRange = null, bool diagonal = false,
        IReadOnlyList<ScatterBand>? bands = null)
    {
        const double left = 60, top = 36, plot = 360, legendWidth = 230;
        var svg = new SvgDocument(left + plot + 30 + legendWidth, top + plot + 56);
        var finite = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var (xMin, xMax) = xRange ?? Range(finite.Select(p => p.X));
        var (yMin, yMax) = yRange ?? Range(finite.Select(p => p.Y));
        double X(double v) => left + (v - xMin) / (xMax - xMin) * plot;
        double Y(double v) => top + plot - (v - yMin) / (yMax - yMin) * plot;

        svg.Text(left + plot / 2, 20, title, 14, "middle", bold: true);
        foreach (var band in bands ?? [])
        {
            // At least 3 px wide, so that a tight interval still shows.
            double from = band.AlongX ? X(band.Lower) : Y(band.Upper), to = band.AlongX ? X(band.Upper) : Y(band.Lower);
            double width = Math.Max(to - from, 3), start = (from + to - width) / 2;
            if (band.AlongX) svg.Rect(start, top, width, plot, band.Fill, band.Title);
            else svg.Rect(left, start, plot, width, band.Fill, band.Title);
        }
        svg.Line(left, top + plot, left + plot, top + plot, "#444").Line(left, top, left, top + plot, "#444");
        foreach (double xv in Ticks(xMin, xMax))
            svg.Line(X(xv), top, X(xv), top + plot, "#eee").Text(X(xv), top + plot + 16, xv.ToString("0.###"), 10, "middle");
        foreach (double yv in Ticks(yMin, yMax))
            svg.Line(left, Y(yv), left + plot, Y(yv), "#eee").Text(left - 6, Y(yv) + 4, yv.ToString("0.###"), 10, "end");
        svg.Text(left + plot / 2, top + plot + 36, xLabel, 12, "middle").Text(16, top + plot / 2, yLabel, 12, "middle", rotate: -90);
        if (diagonal)
        {
            double from = Math.Max(xMin, yMin), to = Math.Min(xMax, yMax);
            if (to > from) svg.Line(X(from), Y(from), X(to), Y(to), "#999");
        }

        foreach (var p in finite)
        {
            if (double.IsFinite(p.XLower)) svg.Line(X(p.XLower), Y(p.Y), X(p.XUpper), Y(p.Y), p.Colour, 1.2);
            if (double.IsFinite(p.YLower)) svg.Line(X(p.X), Y(p.YLower), X(p.X), Y(p.YUpper), p.Colour, 1.2);
        }
        foreach (var p in finite) svg.Marker(X(p.X), Y(p.Y), p.Shape, p.Colour, title: p.Title);

        double legendLeft = left + plot + 30, y = top + 8;
        foreach (var (label, colour) in colours)
        {
            svg.Marker(legendLeft + 6, y - 4, 0, colour).Text(legendLeft + 18, y, label, 11);
            y += 18;
        }
        y += 10;
        foreach (var (label, shape) in shapes)
        {
            svg.Marker(legendLeft + 6, y - 4, shape, "#bbb").Text(legendLeft + 18, y, label, 11);
            y += 18;
        }
        return svg.ToString();
    }

    /// <summary>The data's range widened to whole steps of a round tick size (1, 2 or 5 × 10^k), starting at 0 for non-negative data.</summary>
    private static (double, double) Range(IEnumerable<double> values)
    {
        var list = values.DefaultIfEmpty(0).ToList();
        double min = list.Min(), max = list.Max();
        if (min >= 0 && min < (max - min)) min = 0;
        double step = Step(min, max);
        return (Math.Floor(min / step) * step, Math.Max(Math.Ceiling(max / step) * step, Math.Floor(min / step) * step + step));
    }

    private static double Step(double min, double max)
    {
        double raw = Math.Max(max - min, 1e-6) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        return new[] { 1.0, 2, 5, 10 }.Select(m => m * power).First(step => step >= raw);
    }

    private static IEnumerable<double> Ticks(double min, double max)
    {
        double step = Step(min, max);
        for (double t = Math.Ceiling(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step) yield return Math.Round(t, 10) + 0.0;   // + 0.0 turns −0 into 0
    }
}
