using System.CommandLine;
using IoiBench.Reports;
using IoiBench.Runs;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench report RUN</c>: rewrites a run's leaderboard.md, report.html and CSVs from its run.json, e.g. with other
/// leaderboard columns, without running anything again.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var run = new Argument<string>("run") { Description = "Run directory (runs/RUN-ID)" };
        var columns = CommonOptions.LeaderboardColumns();
        var command = new Command("report", "Rewrite a run's leaderboard.md, report.html and CSVs from its run.json") { run, columns };
        command.SetAction(parse =>
        {
            var chosen = CommonOptions.Columns(parse, columns);
            string directory = parse.GetValue(run)!;
            RunReport.Write(directory, RunJson.Read(directory), chosen);
            stdout.WriteLine($"wrote {directory}/leaderboard.md, report.html, run.json and CSVs");
            return 0;
        });
        return command;
    }
}
