using System.CommandLine;
using IoiBench.Reports;
using IoiBench.IO;
using IoiBench.Runs;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench leaderboard RUN...</c>: merges the results of several runs into one markdown leaderboard.</summary>
internal static class LeaderboardCommand
{
    public static Command Create(TextWriter stdout)
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories (runs/RUN-ID) or run.json files", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output") { Description = "Write the markdown here instead of standard output" };
        var columns = CommonOptions.LeaderboardColumns();
        var command = new Command("leaderboard", "Merge the leaderboards of several runs into one table per cross-section") { runs, output, columns };
        command.SetAction(parse =>
        {
            var chosen = CommonOptions.Columns(parse, columns);
            var loaded = parse.GetValue(runs)!.Select(RunJson.Read).ToList();
            string markdown = loaded.Count == 1 ? Leaderboard.Single(loaded[0], chosen) : Leaderboard.Merged(loaded, chosen);
            if (parse.GetValue(output) is { } path) AtomicFile.WriteAllText(path, markdown);
            else stdout.Write(markdown);
            return 0;
        });
        return command;
    }
}
