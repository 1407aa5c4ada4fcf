using System.Security.Cryptography;
using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Reports;
using IoiBench.Runs;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Pipeline;

/// <summary>
/// What a benchmark run reads and writes: its site data, the SAE preset to train (null: none), SAE folders to score
/// beside them (<see cref="SaeImport"/>), where the run goes and under which id, how SAEs are selected, and the
/// readouts' sizes.
/// </summary>
public sealed record BenchmarkOptions(SiteSource Source, string? PresetPath, string OutputDirectory, string RunId)
{
    public IReadOnlyList<string> SaeDirectories { get; init; } = [];
    public SelectionRule Selection { get; init; } = SelectionRule.Validation;
    public F1Split F1Split { get; init; } = F1Split.Train;
    public int PathologyPrompts { get; init; } = 500;
    /// <summary>Test prompts each node is edited alone on (<see cref="EditOptions.NodeEditPrompts"/>).</summary>
    public int NodeEditPrompts { get; init; } = 1000;
    public int ProbeTrain { get; init; } = 5000;
    /// <summary>The subspace baselines' dimension (<see cref="EditOptions.BaselineDimensions"/>).</summary>
    public int BaselineDimensions { get; init; } = 2;
    public IReadOnlyList<LeaderboardColumn> Columns { get; init; } = LeaderboardColumns.Default;
}

/// <summary>
/// The benchmark end to end: prompts → site activations (train, validation, test) → the preset's SAE sweep and any
/// SAEs brought from elsewhere → SAE selection → edits → error pathology → probing → feature recovery → run.json,
/// CSVs, leaderboard.md and report.html in the output directory. Everything already done (cached activations, finished
/// or checkpointed SAEs) is reused, so an interrupted run picks up where it stopped. An imported SAE is one candidate
/// at each node it reads, a leaderboard row named after its folder; it is scored wherever it covers every node of a
/// cross-section.
/// </summary>
public static class BenchmarkRun
{
    public static RunResults Run(BenchmarkOptions options, IProgress<ProgressUpdate>? progress = null)
    {
        Check(options);
        var recipe = options.PresetPath is { } presetPath ? TrainingPreset.Load(presetPath) : null;
        // Every imported SAE is read and placed on the sites before any work, so a bad file writes nothing.
        var imported = SaeImport.Load(options.SaeDirectories);
        if (recipe is null && imported.Count == 0) throw new InvalidInputException("nothing to score: give a preset to train, or SAE folders.");
        var config = Model.Gpt2Config.Load(Path.Combine(options.Source.ModelDirectory, "config.json"));
        var nodes = SitesFile.Load(options.Source.SitesPath, config).Nodes;
        if (nodes.FirstOrDefault(n => n.Width(config) < options.BaselineDimensions) is { } narrow)
            throw new InvalidInputException($"--baseline-dims {options.BaselineDimensions} is more than node {narrow}'s {narrow.Width(config)} values.");
        var (placed, unplaced) = SaeImport.Place(imported, nodes, config);
        using var folder = DirectoryLock.Acquire(options.OutputDirectory);
        AtomicFile.RemoveOrphans(options.OutputDirectory);
        using var inputs = SiteInputs.Load(options.Source, progress);
        var basis = inputs.Model.Model.Weights.Basis;
        var sites = inputs.Sites;
        var validation = inputs.Split(DatasetSplit.Validation, progress);

        var sweep = recipe is null ? [] : SaeSweep.Run(recipe, inputs.Train, inputs.Test, Path.Combine(options.OutputDirectory, "saes"), inputs.ModelName,
            progress, device: options.Source.Device, basis: basis);
        var (candidates, excluded) = UsableCandidates(sweep, sites.Nodes);
        IReadOnlyList<ulong> seeds = recipe?.Seeds ?? [0];
        AddImported(candidates, excluded, placed, unplaced, seeds[0], basis);
        ulong seed = inputs.Dataset.Options.Seed;
        var editOptions = new EditOptions(Selection: options.Selection, Seed: seed, F1Split: options.F1Split)
            { BaselineDimensions = options.BaselineDimensions, NodeEditPrompts = options.NodeEditPrompts };
        var selector = new SaeSelector(inputs.Transformer, inputs.Dataset, inputs.Train, validation, inputs.Test, candidates, editOptions);
        var edited = sites.CrossSections.SelectMany(s => s.Nodes.Select(n => (n, s.Attribute))).ToList();
        selector.SelectAll([.. edited, .. ProbingBenchmark.SelectionPairs(sites.Nodes, sites.CrossSections)], progress, everySeed: edited);

        var editBenchmark = new EditBenchmark(inputs.Transformer, inputs.Model.Model.Weights, inputs.Dataset, inputs.Train, inputs.Test, selector,
            editOptions);
        var allEdits = editBenchmark.Run(sites.CrossSections, progress);
        ulong firstSeed = seeds[0];
        var edits = allEdits.Where(e => e.Seed is null || e.Seed == firstSeed).ToList();
        var pathology = new PathologyBenchmark(inputs.Transformer, inputs.Dataset, inputs.Test, selector, options.PathologyPrompts, seed)
            .Run(sites.CrossSections, progress);
        var probes = new ProbingBenchmark(inputs.Dataset, inputs.Train, inputs.Test, selector, new ProbeOptions(options.ProbeTrain, Seed: seed))
            .Run(sites.Nodes, sites.CrossSections, progress);
        var recovery = new RecoveryBenchmark(selector).Run(sites.CrossSections);

        string training = string.Join(" and ", sweep.Select(r => r.TrainedOn).Distinct().Order().Concat(placed.Count > 0 ? ["imported"] : []));
        var provenance = new RunProvenance(options.RunId, inputs.ModelName, inputs.Model.ContentHash, inputs.Dataset.Hash, seed, recipe?.Name ?? "none",
            options.PresetPath is { } path ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : "",
            editOptions.SelectionName + (options.F1Split == F1Split.Test ? "; F1 on test" : ""),
            typeof(BenchmarkRun).Assembly.GetName().Version?.ToString() ?? "unknown", DateTimeOffset.UtcNow, training) { Basis = basis.Name() };
        var results = new RunResults(provenance, edits, [.. selector.Selections.Where(s => s.Seed == firstSeed)], pathology, probes, recovery)
        {
            Excluded = excluded,
            Seeds = seeds,
            SeedEdits = [.. allEdits.Except(edits)],
            DasTraining = editBenchmark.DasTraining,
            NodeEdits = editBenchmark.NodeEdits,
            CrossSections = sites.CrossSections,
            Dictionaries = [.. sites.Nodes.Select(n => DictionaryQuality.Measure(selector.Dictionary(n), inputs.Test, inputs.Dataset))],
            Imported = [.. imported.Select(sae => new ImportedSaeRecord(sae.Name, sae.Format, sae.Hook.ToString(), sae.Basis.Name(), sae.Directory,
                sae.FileHash, [.. placed.Where(p => p.Sae == sae).Select(p => p.Node.ToString())]))],
        };
        RunReport.Write(options.OutputDirectory, results, options.Columns);
        return results;
    }

    /// <summary>The splits a run needs, checked before any work: SAEs train on train, are selected on validation (on test with the oracle rule) and scored on test.</summary>
    private static void Check(BenchmarkOptions options)
    {
        var dataset = options.Source.Dataset;
        if (dataset.Train < 1) throw new InvalidInputException("the train split is empty (--train 0); supervised dictionaries and SAEs are fitted on it.");
        if (dataset.Test < 1) throw new InvalidInputException("the test split is empty (--test 0); every reported number is measured on it.");
        if (dataset.Validation < 1 && options.Selection == SelectionRule.Validation)
            throw new InvalidInputException("the validation split is empty (--validation 0), but SAEs are selected on it; give validation prompts, " +
                                            "or select on the test split (--selection oracle).");
    }

    /// <summary>
    /// Adds the imported SAEs: each one candidate (final, of the first seed) at each node it reads. One whose name is a
    /// trained variant's is an error; one that reads no node of the sites file is reported as excluded; one trained in
    /// another basis than the run's activations gets a warning (it is still scored: the run's basis was chosen).
    /// </summary>
    private static void AddImported(Dictionary<SiteNode, List<SaeCandidate>> candidates, List<ExcludedSae> excluded,
        List<(ImportedSae Sae, SiteNode Node)> placed, List<ImportedSae> unplaced, ulong seed, Model.ModelBasis basis)
    {
        var trained = candidates.Values.SelectMany(c => c).Select(c => c.Variant).ToHashSet();
        foreach (var (sae, node) in placed)
        {
            if (trained.Contains(sae.Name))
                throw new InvalidInputException($"{sae.Directory}: an imported SAE's folder is named '{sae.Name}', as the run's trained variant; rename the folder.");
            if (!candidates.TryGetValue(node, out var list)) candidates[node] = list = [];
            list.Add(new SaeCandidate(sae.Name, sae.Name, 0, sae.Directory, sae.Sae, sae.Scale) { Seed = seed, Final = true });
        }
        foreach (var sae in placed.Select(p => p.Sae).Distinct().Where(s => s.Basis != basis))
            Warnings.Emit($"{sae.Directory}: the SAE read {sae.Basis.Name()}-basis activations; the run's are in the {basis.Name()} basis (--basis).");
        foreach (var sae in unplaced)
        {
            excluded.Add(new ExcludedSae("-", sae.Name, sae.Name, $"trained on {sae.Hook}, where the sites file has no node"));
            Warnings.Emit($"{sae.Directory}: trained on {sae.Hook}, where the sites file has no node; it is not scored.");
        }
    }

    /// <summary>
    /// Every node's candidates (its SAEs' checkpoints and final SAEs), without what cannot be used: a diverged SAE keeps
    /// only its checkpoints from before it diverged; a variant left with no candidate of the first seed at some node is
    /// dropped from the whole run, so that every cross-section compares the same variants, and one left without
    /// candidates of another seed loses that seed. Each exclusion carries its reason.
    /// </summary>
    internal static (Dictionary<SiteNode, List<SaeCandidate>> Candidates, List<ExcludedSae> Excluded) UsableCandidates(
        IReadOnlyList<SaeSweep.Result> sweep, IReadOnlyList<SiteNode> nodes)
    {
        var excluded = sweep.Where(r => r.DivergedAt is not null).Select(r => new ExcludedSae(r.Node.ToString(), r.Spec.Variant, r.Spec.Name,
            $"diverged at epoch {r.DivergedAt} (its loss was not finite); only its checkpoints from before then compete")).ToList();
        var candidates = sweep.GroupBy(r => r.Node).ToDictionary(g => g.Key, g => SaeCandidate.FromSweep(g));
        var seeds = sweep.Select(r => r.Seed).Distinct().ToList();
        foreach (string variant in sweep.Select(r => r.Spec.Variant).Distinct().ToList())
            foreach (ulong seed in seeds)
            {
                var lacking = nodes.Where(n => !candidates.TryGetValue(n, out var c) || !c.Any(x => x.Variant == variant && x.Seed == seed)).ToList();
                if (lacking.Count == 0) continue;
                bool first = seed == seeds[0];
                excluded.Add(new ExcludedSae(string.Join(", ", lacking), variant, "*", $"no usable {variant} SAE of seed {seed} at {string.Join(", ", lacking)}: " +
                    (first ? "the variant is left out of the run" : "that seed is left out of the variant's seed spread")));
                foreach (var list in candidates.Values) list.RemoveAll(c => c.Variant == variant && (first || c.Seed == seed));
                if (first) break;
            }
        return (candidates, excluded);
    }
}
