using IoiBench.Reports;

namespace IoiBench.Circuit;

/// <summary>
/// The circuit analysis as one SVG: per head (rows), the logit-difference drop under mean-ablation at each scope
/// (red = the head helps IOI, blue = it hurts) and the mean attention readouts, with the class found.
/// </summary>
public static class CircuitPlot
{
    public static string Render(CircuitAnalysis.Result result, string title)
    {
        var scopes = Enum.GetValues<AblationScope>();
        string[] attentionColumns = ["end→io", "end→s1", "end→s2", "s2→s1", "s2→s1+1"];
        const double cell = 52, rowHeight = 22, left = 70, top = 78;
        double attentionLeft = left + scopes.Length * cell + 30, classLeft = attentionLeft + attentionColumns.Length * cell + 12;
        var svg = new SvgDocument(classLeft + 140, top + result.Heads.Count * rowHeight + 40);
        double scale = result.Heads.SelectMany(h => h.LogitDiffDrop.Values).Select(Math.Abs).DefaultIfEmpty(1).Max();

        svg.Text(10, 20, title, 15, bold: true);
        svg.Text(10, 38, $"clean logit difference {result.CleanLogitDiff:F2}; cells: drop when the head's output is mean-ablated (left), mean attention (right)", 11, fill: "#555");
        svg.Text(left, top - 26, "logit-difference drop, ablated at", 11, bold: true);
        svg.Text(attentionLeft, top - 26, "attention", 11, bold: true);
        for (int c = 0; c < scopes.Length; c++) svg.Text(left + c * cell + cell / 2, top - 8, scopes[c].Name(), 11, "middle");
        for (int c = 0; c < attentionColumns.Length; c++) svg.Text(attentionLeft + c * cell + cell / 2, top - 8, attentionColumns[c], 10, "middle");

        for (int r = 0; r < result.Heads.Count; r++)
        {
            var head = result.Heads[r];
            double y = top + r * rowHeight;
            svg.Text(left - 8, y + 15, head.Head.ToString(), 12, "end");
            for (int c = 0; c < scopes.Length; c++)
            {
                double drop = head.LogitDiffDrop[scopes[c]];
                svg.Rect(left + c * cell, y, cell - 2, rowHeight - 2, SvgDocument.Diverging(drop, scale), $"{head.Head} ablated at {scopes[c].Name()}: drop {drop:F3}");
                svg.Text(left + c * cell + cell / 2, y + 15, drop.ToString("F2"), 10, "middle", fill: Math.Abs(drop) > 0.6 * scale ? "white" : "#222");
            }
            double[] attention = [head.Attention.EndToIo, head.Attention.EndToS1, head.Attention.EndToS2, head.Attention.S2ToS1, head.Attention.S2ToS1Plus1];
            for (int c = 0; c < attention.Length; c++)
            {
                svg.Rect(attentionLeft + c * cell, y, cell - 2, rowHeight - 2, SvgDocument.Sequential(attention[c]), $"{head.Head} {attentionColumns[c]}: {attention[c]:F3}");
                svg.Text(attentionLeft + c * cell + cell / 2, y + 15, attention[c].ToString("F2"), 10, "middle");
            }
            if (head.Class is { } cls) svg.Text(classLeft, y + 15, cls.Replace('_', ' '), 12, bold: true);
        }
        return svg.ToString();
    }
}
