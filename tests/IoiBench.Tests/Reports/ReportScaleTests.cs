using IoiBench.Metrics;
using IoiBench.Prompts;
using IoiBench.Reports;
using IoiBench.Runs;
using IoiBench.Sites;

namespace IoiBench.Tests.Reports;

/// <summary>
/// The report of a run as large as one on GPT-2 small's sites file (55 circuit nodes, ten cross-sections) with the
/// makelov2024 preset (three variants of four λ or k × 14 checkpoints: 56 candidates per selection), with made-up
/// values: what is measured is the report's size and how it opens, not results. Written to
/// TestResults/gpt2-small-shaped-report.html for tools/measure-report.sh.
/// </summary>
public class ReportScaleTests
{
    private static readonly string[] Variants = ["vanilla", "gated", "topk"];
    private static readonly string[] Baselines = ["diffmean", "pca", "pca-diff", "probe", "random", "das"];

    [Fact]
    public void AGpt2SmallSizedReportStaysUnderSixMegabytes()
    {
        string html = RunHtmlReport.Render(ShapedRun());
        File.WriteAllText(ReportPath, html);
        Assert.True(html.Length < 6_000_000, $"the GPT-2-small-sized report is {html.Length / 1e6:F2} MB");
        foreach (var node in SitesFile.Load(SitesPath).Nodes)
            Assert.Contains($"<h3 id=\"{RunHtmlReport.Anchor("node", node.ToString())}\">", html);
    }

    [ChromiumFact]
    public async Task AGpt2SmallSizedReportOpensInChromiumWithoutErrors()
    {
        File.WriteAllText(ReportPath, RunHtmlReport.Render(ShapedRun()));
        var page = await HeadlessChromium.Render(ReportPath, "gpt2-small-shaped-report");
        Assert.Empty(page.Errors);
        Assert.All(page.Svgs, svg => Assert.True(svg.Area > 10_000 && svg.Marks > 5, $"plot '{svg.Title}': {svg.Area:F0} px², {svg.Marks} marks"));
        Assert.Equal(SitesFile.Load(SitesPath).CrossSections.Count(c => c.Nodes.Count > 1),
            page.Svgs.Count(svg => svg.Title.EndsWith(": edit accuracy with one node edited alone")));
    }

    private static string SitesPath => Path.Combine(TestPaths.RepoRoot, "models", "gpt2-small", "sites.yaml");

    private static string ReportPath
    {
        get
        {
            string directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
            Directory.CreateDirectory(directory);
            return Path.Combine(directory, "gpt2-small-shaped-report.html");
        }
    }

    /// <summary>Every row a run on the sites file writes, with deterministic random values in each metric's range.</summary>
    private static RunResults ShapedRun()
    {
        var sites = SitesFile.Load(SitesPath);
        var random = new Random(7);
        double U() => random.NextDouble();
        Estimate E() { double m = U(); return new Estimate(m, Math.Max(0, m - 0.02), Math.Min(1, m + 0.02), 5000); }
        int names = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "prompts", "names.yaml")).Count(l => l.StartsWith("  - "));
        string[] Values(IoiAttribute a) => a == IoiAttribute.Pos ? ["0", "1"] : [.. Enumerable.Range(0, names).Select(i => $"Name{i}")];
        var attributes = Enum.GetValues<IoiAttribute>();
        var provenance = new RunProvenance("gpt2-small-shaped", "gpt2-small", new string('a', 64), new string('b', 64), 0, "makelov2024",
            new string('c', 64), "validation", "0", DateTimeOffset.UnixEpoch, "cuda");

        var edits = sites.CrossSections.SelectMany(c => new[] { ("none", "-"), ("counterfactual patch", "-"), ("supervised", "-") }
            .Concat(Baselines.Select(b => (b, "-"))).Concat(Variants.SelectMany(v => new[] { ("agnostic", v), ("aware", v) }))
            .Select(m => new EditResult(c.Name, c.Label, c.Attribute, m.Item1, m.Item2, E(), E(), E(), E()) { Seed = m.Item2 == "-" ? null : 0 }))
            .ToList();
        var selections = sites.Nodes.SelectMany(n => attributes.SelectMany(a => Variants.Select(v =>
            new NodeSelection(n, a, v, $"{v}-l1-1", 2000, "saes", U(), U(), U(), 40 * U(), U(), U(), U(), 2 * U() - 1, 2 * U() - 1, 56)
            {
                CandidateScores = [.. Enumerable.Range(0, 56).Select(i => new CandidateScore($"{v}-l1-{i / 14}", i % 14, 10 * U(), 40 * U(), U()))],
            }))).ToList();
        var pathology = sites.CrossSections.SelectMany(c => new[] { "supervised" }.Concat(Variants).SelectMany(m =>
            c.Nodes.Select(n => (ScopeKind.Node, n.ToString(), c.Attribute, m)).Append((ScopeKind.CrossSection, c.Name, c.Attribute, m))))
            .Distinct().Select(p => new PathologyResult(p.Item1, p.Item2, p.Item3, p.Item4, "-", new Pathology(E(), E(), U(), E(), E(), U(), U())))
            .ToList();
        var probeMethods = new[] { "raw", "supervised" }.SelectMany(m => new int?[] { null, 1, 2, 4, 16 }.Select(k => (m, k)))
            .Concat(Variants.SelectMany(v => new int?[] { 1, 2, 4, 16 }.Select(k => (v, k)))).ToList();
        var probeScopes = sites.Nodes.SelectMany(n => attributes.Select(a => (ScopeKind.Node, n.ToString(), a)))
            .Concat(sites.CrossSections.Select(c => (ScopeKind.CrossSection, c.Name, c.Attribute)));
        var probes = probeScopes.SelectMany(s => probeMethods.Select(m => new ProbeResult(s.Item1, s.Item2, s.Item3, m.Item1, m.k, m.k ?? 64,
            Values(s.Item3).Length, [.. Enumerable.Range(0, m.k ?? 0).Select(i => $"{i}")], U(), E()))).ToList();
        var recovery = sites.CrossSections.SelectMany(c => c.Nodes.Select(n => (ScopeKind.Node, n.ToString(), c.Attribute))
                .Append((ScopeKind.CrossSection, c.Name, c.Attribute))).Distinct()
            .SelectMany(s => Variants.SelectMany(v => Values(s.Item3).Select(value =>
                new RecoveryResult(s.Item1, s.Item2, s.Item3, v, value, U(), random.Next(4), U())))).ToList();
        var nodeEdits = sites.CrossSections.Where(c => c.Nodes.Count > 1).SelectMany(c => c.Nodes.SelectMany(n =>
            new[] { ("counterfactual patch", "-"), ("supervised", "-") }.Concat(Variants.SelectMany(v => new[] { ("agnostic", v), ("aware", v) }))
                .Select(m => new NodeEditResult(c.Name, n.ToString(), m.Item1, m.Item2, E(), E())))).ToList();
        return new RunResults(provenance, edits, selections, pathology, probes, recovery)
        {
            CrossSections = sites.CrossSections,
            NodeEdits = nodeEdits,
            Dictionaries = [.. sites.Nodes.Select(n => new DictionaryQuality(n, U(), U(), U(), U(), U()))],
            DasTraining = [.. sites.CrossSections.Select(c => new DasTrainingRecord(c.Name, 2, 1024, 256, 10, 160, 10240, 5, 2, 100))],
        };
    }
}
