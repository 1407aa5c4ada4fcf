using System.CommandLine;
using IoiBench.Reports;
using IoiBench.Pipeline;
using IoiBench.Runs;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench run</c>: the whole benchmark (<see cref="BenchmarkRun"/>) — prompts, activations, supervised
/// dictionaries, the SAE sweep, selection, edits and readouts — writing <c>runs/RUN-ID/</c>; resumable.
/// </summary>
internal static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var siteOptions = new SiteOptions("SAEs train and GPT-2 runs (activations, selection, edits, pathology)");
        var preset = CommonOptions.Preset("quick");
        var output = new Option<string?>("--output") { Description = "Run directory (default: runs/RUN-ID, RUN-ID = MODEL-PRESET, 'embedded' for the embedded model)" };
        var selection = new ChoiceOption<SelectionRule>("--selection", "How SAEs are chosen: validation (on the validation split); oracle (on test); " +
            "reference (as the reference's figures: on test, final SAEs, top-k at its smallest k, one SAE per edit type; docs/reproducing.md)",
            SelectionRule.Validation);
        var f1Split = new ChoiceOption<F1Split>("--f1-split", "Split the aware edit's F1 rankings come from: train (every counterfactual name occurs " +
            "there) or test (the reference's)", F1Split.Train);
        var readouts = new ReadoutOptions();
        var command = new Command("run", "Run the benchmark end to end and write runs/RUN-ID (leaderboard.md, report.html, run.json, CSVs)")
            { preset, output, selection, f1Split };
        readouts.AddTo(command);
        siteOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var source = siteOptions.Source(parse);
            string presetPath = Defaults.PresetPath(parse.GetValue(preset)!);
            bool embedded = Path.GetFullPath(source.ModelDirectory) == Path.GetFullPath(Defaults.EmbeddedModel);
            string runId = $"{(embedded ? "embedded" : source.ModelName)}-{Path.GetFileNameWithoutExtension(presetPath)}";
            string directory = Defaults.Writable(parse.GetValue(output) ?? Path.Combine("runs", runId), "--output");
            var options = readouts.Apply(new BenchmarkOptions(source, presetPath, directory, runId)
            {
                Selection = selection.Get(parse),
                F1Split = f1Split.Get(parse),
            }, parse);
            RunResults results;
            using (var progress = new ConsoleProgress(stderr)) results = BenchmarkRun.Run(options, progress);

            stdout.WriteLine($"{"cross-section",-22} {"method",-12} {"variant",-10} {"edit acc",9} {"weight rm",9}");
            foreach (var section in results.Edits.GroupBy(r => r.CrossSection))
                foreach (var r in section.Where(r => r.Method != "counterfactual patch").OrderByDescending(r => r.EditAccuracy.Mean))
                    stdout.WriteLine($"{r.CrossSection,-22} {r.Method,-12} {r.Variant,-10} {r.EditAccuracy.Mean,9:F3} {r.WeightRemoved.Mean,9:F3}");
            stdout.WriteLine($"wrote {directory}/leaderboard.md, report.html, run.json and CSVs in {clock.Elapsed.TotalMinutes:F1} min");
            if (embedded) CompareWithReference(results, runId, stdout);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A run on the embedded model against the committed reference run of the same id (bundled as reference/RUN-ID):
    /// the largest difference per metric, so a user sees at once whether their machine reproduces it.
    /// </summary>
    private static void CompareWithReference(RunResults run, string runId, TextWriter stdout)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "reference", runId, "run.json");
        if (!File.Exists(path)) return;
        var reference = RunJson.Read(path);
        string where = $"results/{runId}";
        if (RunComparison.Incomparable(run, reference) is { } reason)
        {
            stdout.WriteLine($"not compared with the reference run {where}: {reason}.");
            return;
        }
        stdout.WriteLine($"compared with the reference run {where} (float rounding differs between CPUs; docs/reproducibility.md):");
        foreach (var d in RunComparison.Largest(run, reference))
            stdout.WriteLine($"  {d.Metric,-30} largest difference {d.Largest,8:F4}  ({d.Where}; {d.Rows} rows)");
        stdout.WriteLine($"  {"selections",-30} {RunComparison.OtherSelections(run, reference)} of {run.Selections.Count} chose another SAE or checkpoint");
    }
}
