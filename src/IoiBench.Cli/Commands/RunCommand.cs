using System.CommandLine;
using IoiBench.Runs;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench run</c>: the whole benchmark (<see cref="BenchmarkRun"/>) — prompts, activations, supervised
/// dictionaries, the SAE sweep, selection, edits and readouts — writing <c>results/RUN-ID/</c>; resumable.
/// </summary>
internal static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var siteOptions = new SiteOptions("SAEs train and GPT-2 runs (activations, selection, edits, pathology)");
        var preset = CommonOptions.Preset("quick");
        var output = new Option<string?>("--output") { Description = "Run directory (default: results/RUN-ID, RUN-ID = MODEL-PRESET, 'embedded' for the embedded model)" };
        var selection = new Option<string>("--selection") { Description = "validation (default) or oracle (select SAEs on the test split, as the reference did)", DefaultValueFactory = _ => "validation" }
            .AcceptingOnly("validation", "oracle");
        var columns = CommonOptions.LeaderboardColumns();
        var pathologyPrompts = CommonOptions.Number("--pathology-prompts", "Test prompts for the error pathology (two forward passes per node and method)",
            fallback: 500, minimum: 1);
        var probeTrain = CommonOptions.Number("--probe-train", "Train prompts the probes are fitted on (every test prompt scores them)", fallback: 5000, minimum: 1);
        var command = new Command("run", "Run the benchmark end to end and write results/RUN-ID (leaderboard.md, report.html, run.json, CSVs)")
            { preset, output, selection, columns, pathologyPrompts, probeTrain };
        siteOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var source = siteOptions.Source(parse);
            string presetPath = Defaults.PresetPath(parse.GetValue(preset)!);
            bool embedded = Path.GetFullPath(source.ModelDirectory) == Path.GetFullPath(Defaults.EmbeddedModel);
            string runId = $"{(embedded ? "embedded" : source.ModelName)}-{Path.GetFileNameWithoutExtension(presetPath)}";
            string directory = Defaults.Writable(parse.GetValue(output) ?? Path.Combine("results", runId), "--output");
            var options = new BenchmarkOptions(source, presetPath, directory, runId)
            {
                OracleSelection = parse.GetValue(selection) == "oracle",
                PathologyPrompts = parse.GetValue(pathologyPrompts),
                ProbeTrain = parse.GetValue(probeTrain),
                Columns = Runs.LeaderboardColumns.Parse(parse.GetValue(columns)!),
            };
            RunResults results;
            using (var progress = new ConsoleProgress(stderr)) results = BenchmarkRun.Run(options, progress);

            stdout.WriteLine($"{"cross-section",-22} {"method",-12} {"variant",-8} {"edit acc",9} {"weight rm",9}");
            foreach (var section in results.Edits.GroupBy(r => r.CrossSection))
                foreach (var r in section.Where(r => r.Method != "counterfactual patch").OrderByDescending(r => r.EditAccuracy.Mean))
                    stdout.WriteLine($"{r.CrossSection,-22} {r.Method,-12} {r.Variant,-8} {r.EditAccuracy.Mean,9:F3} {r.WeightRemoved.Mean,9:F3}");
            stdout.WriteLine($"wrote {directory}/leaderboard.md, report.html, run.json and CSVs in {clock.Elapsed.TotalMinutes:F1} min");
            return 0;
        });
        return command;
    }
}
