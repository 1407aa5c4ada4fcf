

namespace IoiBench.Reports;

/// <summary>One point of a scatter plot, with optional 95% intervals on both axes and a link a click follows.</summary>
public sealed record ScatterPoint(double X, double Y, string Colour, int Shape, string Title,
    double XLower = double.NaN, double XUpper = double.NaN, double YLower = double.NaN, double YUpper = double.NaN)
{
    public string? Link { get; init; }
}

/// <summary>A point of two side-by-side scatter plots that share the y axis: its x in the left one and in the right one.</summary>
public sealed record PairedPoint(double Left, double Right, double Y, string Colour, int Shape, string Title);

/// <summary>A shaded band across a scatter plot: the x values from Lower to Upper (<see cref="AlongX"/>), or the y values.</summary>
public sealed record ScatterBand(bool AlongX, double Lower, double Upper, string Fill, string Title);

/// <summary>
/// A scatter plot in SVG: axes with ticks, optional shaded bands behind the points, points with interval whiskers,
/// legends for colours and shapes, and optionally the line y = x.
/// </summary>
public static class ScatterPlot
{
    private const double Left = 60, Top = 36, LegendWidth = 230;

    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ScatterPoint> points,
        IReadOnlyList<(string Label, string Colour)> colours, IReadOnlyList<(string Label, int Shape)> shapes,
        (double Min, double Max)? xRange = null, (double Min, double Max)? yRange = null, bool diagonal = false,
        IReadOnlyList<ScatterBand>? bands = null)
    {
        const double plot = 360;
        var svg = new SvgDocument(Left + plot + 30 + LegendWidth, Top + plot + 56);
        var finite = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var axes = new Axes(Left, plot, xRange ?? Range(finite.Select(p => p.X)), yRange ?? Range(finite.Select(p => p.Y)));

        svg.Text(Left + plot / 2, 20, title, 14, "middle", bold: true);
        foreach (var band in bands ?? [])
        {
            // At least 3 px wide, so that a tight interval still shows.
            double from = band.AlongX ? axes.X(band.Lower) : axes.Y(band.Upper), to = band.AlongX ? axes.X(band.Upper) : axes.Y(band.Lower);
            double width = Math.Max(to - from, 3), start = (from + to - width) / 2;
            if (band.AlongX) svg.Rect(start, Top, width, plot, band.Fill, band.Title);
            else svg.Rect(Left, start, plot, width, band.Fill, band.Title);
        }
        DrawAxes(svg, axes, xLabel, yLabel);
        if (diagonal)
        {
            double from = Math.Max(axes.XRange.Min, axes.YRange.Min), to = Math.Min(axes.XRange.Max, axes.YRange.Max);
            if (to > from) svg.Line(axes.X(from), axes.Y(from), axes.X(to), axes.Y(to), "#999");
        }

        foreach (var p in finite)
        {
            if (double.IsFinite(p.XLower)) svg.Line(axes.X(p.XLower), axes.Y(p.Y), axes.X(p.XUpper), axes.Y(p.Y), p.Colour, 1.2);
            if (double.IsFinite(p.YLower)) svg.Line(axes.X(p.X), axes.Y(p.YLower), axes.X(p.X), axes.Y(p.YUpper), p.Colour, 1.2);
        }
        foreach (var p in finite) svg.Marker(axes.X(p.X), axes.Y(p.Y), p.Shape, p.Colour, title: p.Title, link: p.Link);
        DrawLegend(svg, Left + plot + 30, colours, shapes);
        return svg.ToString();
    }

    /// <summary>
    /// Two scatter plots side by side that share the y axis, each point drawn in both (at <see cref="PairedPoint.Left"/>
    /// and at <see cref="PairedPoint.Right"/>) as one mark with one tooltip: half the bytes of two plots.
    /// </summary>
    public static string RenderPair(string title, string leftLabel, string rightLabel, string yLabel, IReadOnlyList<PairedPoint> points,
        IReadOnlyList<(string Label, string Colour)> colours, IReadOnlyList<(string Label, int Shape)> shapes)
    {
        const double plot = 300, gap = 70;
        var finite = points.Where(p => double.IsFinite(p.Left) && double.IsFinite(p.Right) && double.IsFinite(p.Y)).ToList();
        var yRange = Range(finite.Select(p => p.Y));
        var left = new Axes(Left, plot, Range(finite.Select(p => p.Left)), yRange);
        var right = new Axes(Left + plot + gap, plot, Range(finite.Select(p => p.Right)), yRange);
        var svg = new SvgDocument(right.Left + plot + 30 + LegendWidth, Top + plot + 56);
        svg.Text(Left + plot + gap / 2, 20, title, 14, "middle", bold: true);
        DrawAxes(svg, left, leftLabel, yLabel);
        DrawAxes(svg, right, rightLabel, yLabel);
        foreach (var p in finite)
            svg.Markers([(left.X(p.Left), left.Y(p.Y)), (right.X(p.Right), right.Y(p.Y))], p.Shape, p.Colour, title: p.Title);
        DrawLegend(svg, right.Left + plot + 30, colours, shapes);
        return svg.ToString();
    }

    /// <summary>One plot area: its left edge and size in pixels and the data ranges it maps onto them.</summary>
    private sealed record Axes(double Left, double Plot, (double Min, double Max) XRange, (double Min, double Max) YRange)
    {
        public double X(double v) => Left + (v - XRange.Min) / (XRange.Max - XRange.Min) * Plot;

        public double Y(double v) => Top + Plot - (v - YRange.Min) / (YRange.Max - YRange.Min) * Plot;
    }

    private static void DrawAxes(SvgDocument svg, Axes axes, string xLabel, string yLabel)
    {
        double left = axes.Left, plot = axes.Plot;
        svg.Line(left, Top + plot, left + plot, Top + plot, "#444").Line(left, Top, left, Top + plot, "#444");
        foreach (double xv in Ticks(axes.XRange.Min, axes.XRange.Max))
            svg.Line(axes.X(xv), Top, axes.X(xv), Top + plot, "#eee").Text(axes.X(xv), Top + plot + 16, xv.ToString("0.###"), 10, "middle");
        foreach (double yv in Ticks(axes.YRange.Min, axes.YRange.Max))
            svg.Line(left, axes.Y(yv), left + plot, axes.Y(yv), "#eee").Text(left - 6, axes.Y(yv) + 4, yv.ToString("0.###"), 10, "end");
        svg.Text(left + plot / 2, Top + plot + 36, xLabel, 12, "middle").Text(left - 44, Top + plot / 2, yLabel, 12, "middle", rotate: -90);
    }

    private static void DrawLegend(SvgDocument svg, double left, IReadOnlyList<(string Label, string Colour)> colours,
        IReadOnlyList<(string Label, int Shape)> shapes)
    {
        double y = Top + 8;
        foreach (var (label, colour) in colours)
        {
            svg.Marker(left + 6, y - 4, 0, colour).Text(left + 18, y, label, 11);
            y += 18;
        }
        y += 10;
        foreach (var (label, shape) in shapes)
        {
            svg.Marker(left + 6, y - 4, shape, "#bbb").Text(left + 18, y, label, 11);
            y += 18;
        }
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
