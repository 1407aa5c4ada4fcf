using IoiBench.Reports;
using IoiBench.Runs;

namespace IoiBench.Tests.Reports;

/// <summary>The committed reference run: its files are what the code as it stands writes from its run.json, and its report reads in a browser.</summary>
public class CommittedResultsTests
{
    private static readonly string Run = Path.Combine(TestPaths.RepoRoot, "results", "embedded-quick");

    [Fact]
    public void EveryCommittedFileIsWhatTheCodeWritesFromTheRunsJson()
    {
        using var dir = new TestPaths.TempDirectory();
        RunReport.Write(dir.Path, RunJson.Read(Run));
        foreach (string file in Directory.GetFiles(dir.Path).Select(Path.GetFileName)!)
            Assert.True(File.ReadAllText(Path.Combine(Run, file!)) == File.ReadAllText(Path.Combine(dir.Path, file!)),
                $"results/embedded-quick/{file} differs from what 'ioibench report results/embedded-quick' writes now: regenerate the run.");
    }

    [ChromiumFact]
    public async Task TheReportOpensInChromiumWithoutErrorsAndDrawsEveryPlot()
    {
        var page = await HeadlessChromium.Render(Path.Combine(Run, "report.html"), "embedded-quick-report");
        Assert.Empty(page.Errors);
        Assert.NotEmpty(page.Svgs);
        Assert.All(page.Svgs, svg =>
        {
            Assert.True(svg.Area > 10_000, $"plot '{svg.Title}' is laid out at {svg.Area:F0} px²");
            Assert.True(svg.Marks > 5, $"plot '{svg.Title}' draws {svg.Marks} marks");
        });
        Assert.Contains(page.Svgs, svg => svg.Title.StartsWith("Interpretation-agnostic"));
        Assert.Contains(page.Svgs, svg => svg.Title.StartsWith("Interpretation-aware"));
        // One edit-accuracy bar chart per cross-section, and the per-node rank correlations.
        var run = RunJson.Read(Run);
        Assert.Equal(run.Edits.Select(e => e.CrossSection).Distinct().Count(), page.Svgs.Count(svg => svg.Title.EndsWith(": edit accuracy")));
        Assert.Contains(page.Svgs, svg => svg.Title == "ρ(distance, L0)");
        Assert.True(new FileInfo(page.Screenshot).Length > 10_000);
    }

    [Fact]
    public void EveryLinkInsideTheReportLeadsToASectionOfIt()
    {
        string html = File.ReadAllText(Path.Combine(Run, "report.html"));
        var ids = System.Text.RegularExpressions.Regex.Matches(html, "id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        var links = System.Text.RegularExpressions.Regex.Matches(html, "href=\"#([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var run = RunJson.Read(Run);
        // Every cross-section and node is linked from the contents.
        Assert.True(links.Count >= run.Edits.Select(e => e.CrossSection).Distinct().Count() + run.Selections.Select(s => s.Node).Distinct().Count());
        Assert.All(links, link => Assert.Contains(link, ids));
    }
}
