using System.Globalization;

namespace IoiBench.Reports;

/// <summary>
/// A heatmap in SVG: one row per series, one column per label, each cell shaded from white (0) to dark blue (1) by its
/// value in [0, 1], with label and value in its tooltip (or the tooltip <paramref name="tip"/> writes); a missing value
/// (NaN) is grey. Columns narrow to fit many labels (IO has hundreds of names), whose names are then left to the
/// tooltips, and labels too long for their column are slanted. With <paramref name="link"/>, a click on a cell follows
/// the link it gives.
/// </summary>
public static class Heatmap
{
    public static string Render(string title, IReadOnlyList<string> columns, IReadOnlyList<string> rows, Func<int, int, double> value,
        Func<int, int, string>? tip = null, Func<int, int, string?>? link = null)
    {
        const double left = 90, top = 40, cellHeight = 18, plotWidth = 760;
        double cellWidth = Math.Clamp(plotWidth / Math.Max(columns.Count, 1), 3, 48);
        bool labelled = cellWidth >= 30;
        double labelLength = columns.Select(c => c.Length * 5.5).DefaultIfEmpty(0).Max();   // ~5.5 px a character at 10 px
        bool slanted = labelled && labelLength > cellWidth - 4;
        double bottom = top + rows.Count * cellHeight + (!labelled ? 4 : slanted ? labelLength * 0.72 + 14 : 18);
        var svg = new SvgDocument(Math.Max(left + columns.Count * cellWidth + 20, 460), bottom + 20);
        svg.Text(left, 18, title, 13, bold: true);
        for (int r = 0; r < rows.Count; r++)
        {
            svg.Text(left - 6, top + (r + 0.7) * cellHeight, rows[r], 11, "end");
            for (int c = 0; c < columns.Count; c++)
            {
                double v = value(r, c);
                string cellTitle = tip?.Invoke(r, c) ??
                               $"{columns[c]}, {rows[r]}: {(double.IsNaN(v) ? "—" : v.ToString("F3", CultureInfo.InvariantCulture))}";
                svg.Rect(left + c * cellWidth, top + r * cellHeight + 1, Math.Max(cellWidth - (labelled ? 2 : 0.5), 1), cellHeight - 2, Shade(v),
                    cellTitle, link?.Invoke(r, c));
            }
        }
        double labelTop = top + rows.Count * cellHeight + 12;
        if (slanted)
            for (int c = 0; c < columns.Count; c++) svg.Text(left + (c + 0.5) * cellWidth, labelTop, columns[c], 10, "end", rotate: -45);
        else if (labelled)
            for (int c = 0; c < columns.Count; c++) svg.Text(left + (c + 0.5) * cellWidth, bottom - 4, columns[c], 10, "middle");
        svg.Text(left, bottom + 14, $"{columns.Count} columns; white 0 → dark blue 1; hover a cell for its value", 10, fill: "#555");
        return svg.ToString();
    }

    /// <summary>Linear from white to #08306b; grey for NaN.</summary>
    private static string Shade(double v)
    {
        if (double.IsNaN(v)) return "#dddddd";
        double t = Math.Clamp(v, 0, 1);
        int Channel(int to) => (int)Math.Round(255 + (to - 255) * t);
        return $"#{Channel(0x08):x2}{Channel(0x30):x2}{Channel(0x6b):x2}";
    }
}
