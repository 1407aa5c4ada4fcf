using IoiBench.IO;
using IoiBench.Runs;

namespace IoiBench.Reports;

/// <summary>
/// Writes a run's results under <c>runs/RUN-ID/</c>: <c>run.json</c> (everything, versioned), the CSVs
/// (<c>edits.csv</c>, <c>selections.csv</c>, <c>pathology.csv</c>, <c>probes.csv</c>, <c>recovery.csv</c>),
/// <c>leaderboard.md</c> and <c>report.html</c>. Every file is written atomically, run.json last.
/// </summary>
public static class RunReport
{
    public static void Write(string directory, RunResults run, IReadOnlyList<LeaderboardColumn>? columns = null)
    {
        foreach (var (name, text) in RunCsv.Files(run)) AtomicFile.WriteAllText(Path.Combine(directory, name), text);
        AtomicFile.WriteAllText(Path.Combine(directory, "leaderboard.md"), Leaderboard.Single(run, columns ?? LeaderboardColumns.Default));
        AtomicFile.WriteAllText(Path.Combine(directory, "report.html"), Reports.RunHtmlReport.Render(run));
        AtomicFile.WriteAllText(Path.Combine(directory, "run.json"), RunJson.Write(run));
    }
}
