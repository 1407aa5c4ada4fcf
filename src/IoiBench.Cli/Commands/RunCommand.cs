using System.CommandLine;
using System.Security.Cryptography;
using IoiBench.Prompts;
using IoiBench.Runs;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench run</c>: the whole benchmark — prompts, activations, supervised dictionaries, the SAE sweep, selection,
/// edits and metrics — writing <c>results/RUN-ID/</c>. Every step already done (cached activations, finished or
/// checkpointed SAEs) is reused, so an interrupted run picks up where it stopped.
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
            string presetPath = Defaults.PresetPath(parse.GetValue(preset)!);
            var recipe = TrainingPreset.Load(presetPath);
            var leaderboardColumns = Runs.LeaderboardColumns.Parse(parse.GetValue(columns)!);
            var progress = new ConsoleProgress(stderr);
            using var site = SiteData.Load(parse, siteOptions, progress);
            bool embedded = Path.GetFullPath(parse.GetValue(siteOptions.Model)!) == Path.GetFullPath(Defaults.EmbeddedModel);
            string runId = $"{(embedded ? "embedded" : site.ModelName)}-{recipe.Name}";
            string directory = parse.GetValue(output) ?? Path.Combine("results", runId);
            var validation = site.Cache.GetOrExtract(site.Model, site.Dataset, DatasetSplit.Validation, site.Sites.Nodes, progress,
                site.Transformer).Activations;

            var sweep = SaeSweep.Run(recipe, site.Train, site.Test, Path.Combine(directory, "saes"), site.ModelName, progress, device: parse.GetValue(siteOptions.Device));
            var candidates = sweep.GroupBy(r => r.Node).ToDictionary(g => g.Key, g => SaeCandidate.FromSweep(g));
            bool oracle = parse.GetValue(selection) == "oracle";
            ulong seed = site.Dataset.Options.Seed;
            var options = new EditOptions(OracleSelection: oracle, Seed: seed);
            var selector = new SaeSelector(site.Transformer, site.Dataset, site.Train, validation, site.Test, candidates, options);
            var results = new EditBenchmark(site.Transformer, site.Dataset, site.Test, selector, options).Run(site.Sites.CrossSections, progress);
            var pathology = new PathologyBenchmark(site.Transformer, site.Dataset, site.Test, selector, parse.GetValue(pathologyPrompts), seed)
                .Run(site.Sites.CrossSections, progress);
            var probes = new ProbingBenchmark(site.Dataset, site.Train, site.Test, selector, new ProbeOptions(parse.GetValue(probeTrain), Seed: seed))
                .Run(site.Sites.Nodes, site.Sites.CrossSections, progress);
            var recovery = new RecoveryBenchmark(selector).Run(site.Sites.CrossSections);

            var provenance = new RunProvenance(runId, site.ModelName, site.Model.ContentHash, site.Dataset.Hash, site.Dataset.Options.Seed, recipe.Name,
                Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(presetPath))), oracle ? "test (oracle)" : "validation",
                typeof(RunCommand).Assembly.GetName().Version?.ToString() ?? "unknown", DateTimeOffset.UtcNow,
                string.Join(" and ", sweep.Select(r => r.TrainedOn).Distinct().Order()));
            RunReport.Write(directory, new RunResults(provenance, results, [.. selector.Selections], pathology, probes, recovery), leaderboardColumns);

            stdout.WriteLine($"{"cross-section",-22} {"method",-12} {"variant",-8} {"edit acc",9} {"weight rm",9}");
            foreach (var section in results.GroupBy(r => r.CrossSection))
                foreach (var r in section.Where(r => r.Method != "counterfactual patch").OrderByDescending(r => r.EditAccuracy.Mean))
                    stdout.WriteLine($"{r.CrossSection,-22} {r.Method,-12} {r.Variant,-8} {r.EditAccuracy.Mean,9:F3} {r.WeightRemoved.Mean,9:F3}");
            stdout.WriteLine($"wrote {directory}/leaderboard.md, report.html, run.json and CSVs in {clock.Elapsed.TotalMinutes:F1} min");
            return 0;
        });
        return command;
    }
}
