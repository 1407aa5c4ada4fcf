using System.Security.Cryptography;
using IoiBench.Prompts;
using IoiBench.Saes;

namespace IoiBench.Runs;

/// <summary>
/// What a benchmark run reads and writes: its site data, the SAE preset, where the run goes and under which id, how
/// SAEs are selected, and the readouts' sizes.
/// </summary>
public sealed record BenchmarkOptions(SiteSource Source, string PresetPath, string OutputDirectory, string RunId)
{
    public bool OracleSelection { get; init; }
    public int PathologyPrompts { get; init; } = 500;
    public int ProbeTrain { get; init; } = 5000;
    public IReadOnlyList<LeaderboardColumn> Columns { get; init; } = LeaderboardColumns.Default;
}

/// <summary>
/// The benchmark end to end: prompts → site activations (train, validation, test) → the preset's SAE sweep → SAE
/// selection → edits → error pathology → probing → feature recovery → run.json, CSVs, leaderboard.md and report.html
/// in the output directory. Everything already done (cached activations, finished or checkpointed SAEs) is reused, so
/// an interrupted run picks up where it stopped.
/// </summary>
public static class BenchmarkRun
{
    public static RunResults Run(BenchmarkOptions options, IProgress<ProgressUpdate>? progress = null)
    {
        var recipe = TrainingPreset.Load(options.PresetPath);
        using var inputs = SiteInputs.Load(options.Source, progress);
        var validation = inputs.Split(DatasetSplit.Validation, progress);
        var sites = inputs.Sites;

        var sweep = SaeSweep.Run(recipe, inputs.Train, inputs.Test, Path.Combine(options.OutputDirectory, "saes"), inputs.ModelName, progress,
            device: options.Source.Device);
        var candidates = sweep.GroupBy(r => r.Node).ToDictionary(g => g.Key, g => SaeCandidate.FromSweep(g));
        ulong seed = inputs.Dataset.Options.Seed;
        var editOptions = new EditOptions(OracleSelection: options.OracleSelection, Seed: seed);
        var selector = new SaeSelector(inputs.Transformer, inputs.Dataset, inputs.Train, validation, inputs.Test, candidates, editOptions);
        selector.SelectAll([.. sites.CrossSections.SelectMany(s => s.Nodes.Select(n => (n, s.Attribute))),
            .. ProbingBenchmark.SelectionPairs(sites.Nodes, sites.CrossSections)], progress);

        var edits = new EditBenchmark(inputs.Transformer, inputs.Dataset, inputs.Test, selector, editOptions).Run(sites.CrossSections, progress);
        var pathology = new PathologyBenchmark(inputs.Transformer, inputs.Dataset, inputs.Test, selector, options.PathologyPrompts, seed)
            .Run(sites.CrossSections, progress);
        var probes = new ProbingBenchmark(inputs.Dataset, inputs.Train, inputs.Test, selector, new ProbeOptions(options.ProbeTrain, Seed: seed))
            .Run(sites.Nodes, sites.CrossSections, progress);
        var recovery = new RecoveryBenchmark(selector).Run(sites.CrossSections);

        var provenance = new RunProvenance(options.RunId, inputs.ModelName, inputs.Model.ContentHash, inputs.Dataset.Hash, seed, recipe.Name,
            Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(options.PresetPath))), options.OracleSelection ? "test (oracle)" : "validation",
            typeof(BenchmarkRun).Assembly.GetName().Version?.ToString() ?? "unknown", DateTimeOffset.UtcNow,
            string.Join(" and ", sweep.Select(r => r.TrainedOn).Distinct().Order()));
        var results = new RunResults(provenance, edits, [.. selector.Selections], pathology, probes, recovery);
        RunReport.Write(options.OutputDirectory, results, options.Columns);
        return results;
    }
}
