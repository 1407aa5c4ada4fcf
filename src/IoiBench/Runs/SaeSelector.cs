using IoiBench.Activations;
using IoiBench.Behaviour;
using IoiBench.Dictionaries;
using IoiBench.Edits;
using IoiBench.Metrics;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>The SAE chosen for a node, attribute and variant, the mean distance to the counterfactual its agnostic edits
/// reached (selection split and test), its test explained variance and L0, and how it relates to the supervised features.
/// SupervisedCosine: mean over decoder rows of the best cosine with the attribute's supervised codes u_f[v];
/// BestF1: mean over the attribute's values of the best latent's F1 (train split); LdRecovered: |LD_sae − LD_mean| /
/// |LD_clean − LD_mean| with the node alone replaced (1 = perfect); SpearmanL0, SpearmanLd: over the variant's
/// candidates (every λ or k and checkpoint), the rank correlation of the distance with L0 and with |1 − LD recovered|.</summary>
public sealed record NodeSelection(SiteNode Node, IoiAttribute Attribute, string Variant, string Sae, int Epoch, string Directory,
    double SelectionDistance, double TestDistance, double ExplainedVariance, double L0, double SupervisedCosine, double BestF1,
    double LdRecovered, double SpearmanL0, double SpearmanLd, int Candidates)
{
    /// <summary>The training seed of the chosen SAE's candidates.</summary>
    public ulong Seed { get; init; }
}

/// <summary>
/// Chooses, for each node, attribute and SAE variant, the SAE (λ or k, and checkpoint) whose agnostic edits land
/// closest to the counterfactual activation on the validation split (on test with
/// <see cref="EditOptions.OracleSelection"/>, as the reference did), and keeps what the choice needs and produces: the
/// supervised dictionaries, each candidate's L0 and LD recovered, the F1 rankings and the test-split edits.
/// </summary>
public sealed class SaeSelector(ITransformer model, IoiDataset dataset, SiteActivations train, SiteActivations validation, SiteActivations test,
    IReadOnlyDictionary<SiteNode, List<SaeCandidate>> candidates, EditOptions options)
{
    private readonly Dictionary<SiteNode, SupervisedDictionary> _dictionaries = new();
    private readonly Dictionary<(SiteNode, IoiAttribute, string, ulong), (SaeCandidate Sae, F1Ranking Ranking, NodeSelection Selection)> _selected = new();
    private readonly Dictionary<string, (double L0, double LdRecovered)> _candidateStats = new();
    private readonly Dictionary<SiteNode, double> _meanAblatedLd = new();
    private readonly Dictionary<(string Directory, IoiAttribute Attribute), SaeEdit> _testEdits = new();
    private CleanRunCache? _ldRuns;

    /// <summary>Every selection made so far.</summary>
    public IReadOnlyCollection<NodeSelection> Selections => [.. _selected.Values.Select(v => v.Selection)];

    /// <summary>The SAE variants among the candidates, in order of first appearance.</summary>
    public IReadOnlyList<string> Variants { get; } = [.. candidates.Values.SelectMany(c => c).Select(c => c.Variant).Distinct()];

    /// <summary>The training seeds among the candidates, the first being the one the readouts use.</summary>
    public IReadOnlyList<ulong> Seeds { get; } = [.. candidates.Values.SelectMany(c => c).Select(c => c.Seed).Distinct()];

    private ulong FirstSeed => Seeds.Count > 0 ? Seeds[0] : 0;

    private readonly Dictionary<string, List<ulong>> _seedsOf = candidates.Values.SelectMany(c => c).GroupBy(c => c.Variant)
        .ToDictionary(g => g.Key, g => g.Select(c => c.Seed).Distinct().ToList());

    /// <summary>The seeds a variant has candidates of, the first seed first.</summary>
    public IReadOnlyList<ulong> SeedsOf(string variant) => _seedsOf.TryGetValue(variant, out var seeds) ? seeds : [];

    /// <summary>The node's supervised dictionary, fitted on the train split's clean activations.</summary>
    public SupervisedDictionary Dictionary(SiteNode node)
    {
        if (!_dictionaries.TryGetValue(node, out var dictionary))
            _dictionaries[node] = dictionary = SupervisedDictionary.Fit(node, train.Get(node, PromptVariant.Clean), [.. dataset.Train.Select(e => e.Clean.Prompt)]);
        return dictionary;
    }

    /// <summary>F1 of the SAE's latents on the train split's clean activations (decisions.md: train contains every value).</summary>
    private F1Ranking Ranking(SiteNode node, IoiAttribute attribute, SaeCandidate sae) =>
        F1Ranking.Fit(sae.Latents(train.Get(node, PromptVariant.Clean)),
            [.. dataset.Train.Select(e => e.Clean.Prompt.ValueOf(attribute))]);

    /// <summary>
    /// Makes every selection the readouts will ask for, in order, as one progress stage: for each (node, attribute) pair,
    /// the node's supervised dictionary and each variant's SAE (selections run forward passes and fill shared caches, so
    /// they are made one at a time, before readouts that run in parallel).
    /// </summary>
    public void SelectAll(IEnumerable<(SiteNode Node, IoiAttribute Attribute)> pairs, IProgress<ProgressUpdate>? progress = null,
        IEnumerable<(SiteNode Node, IoiAttribute Attribute)>? everySeed = null)
    {
        var firstSeed = pairs.Distinct().Select(p => (p.Node, p.Attribute, Seed: FirstSeed));
        var otherSeeds = (everySeed ?? []).Distinct().SelectMany(p => Seeds.Skip(1).Select(seed => (p.Node, p.Attribute, Seed: seed)));
        var all = firstSeed.Concat(otherSeeds).ToList();
        long done = 0, total = all.Sum(p => (long)Variants.Count(v => SeedsOf(v).Contains(p.Seed)));
        foreach (var (node, attribute, seed) in all)
        {
            Dictionary(node);
            foreach (string variant in Variants.Where(v => SeedsOf(v).Contains(seed)))
            {
                Select(node, attribute, variant, seed);
                string seedNote = Seeds.Count > 1 ? $" seed {seed}" : "";
                progress?.Report(new ProgressUpdate("SAE selection", ++done, total, $"{node} {attribute.ToString().ToUpperInvariant()} {variant}{seedNote}"));
            }
        }
    }

    /// <summary>
    /// The candidate whose agnostic edits land closest (mean L2, raw scale) to the counterfactual activations, and its
    /// F1 ranking for the attribute.
    /// </summary>
    public (SaeCandidate Sae, F1Ranking Ranking) Select(SiteNode node, IoiAttribute attribute, string variant, ulong? seed = null)
    {
        ulong trainedWith = seed ?? FirstSeed;
        if (_selected.TryGetValue((node, attribute, variant, trainedWith), out var chosen)) return (chosen.Sae, chosen.Ranking);
        var cfVariant = PromptVariants.Of(attribute);
        var selectionSplit = options.OracleSelection ? test : validation;
        double Distance(SaeCandidate c, SiteActivations split)
        {
            var cf = split.Get(node, cfVariant);
            var edited = ActivationScale.Undo(AgnosticEdit(c, node, attribute, split).Edited, c.Scale);
            double total = 0;
            for (int p = 0; p < cf.Shape[0]; p++)
                total += System.Numerics.Tensors.TensorPrimitives.Distance(cf.Row(p), edited.Row(p));
            return total / cf.Shape[0];
        }
        var pool = candidates.TryGetValue(node, out var list) ? list.Where(c => c.Variant == variant && c.Seed == trainedWith).ToList() : [];
        if (pool.Count == 0) throw new InvalidInputException($"no {variant} SAE of seed {trainedWith} for node {node}.");
        var scored = pool.Select(c => (Candidate: c, Distance: Distance(c, selectionSplit), Stats: CandidateStats(node, c))).ToList();
        var best = scored.MinBy(s => s.Distance);
        var distances = scored.Select(s => s.Distance).ToList();
        var testClean = ActivationScale.Apply(test.Get(node, PromptVariant.Clean), best.Candidate.Scale);
        var latents = best.Candidate.Sae.Encode(testClean);
        var quality = ReconstructionQuality.Measure(testClean, best.Candidate.Sae.Decode(latents));
        double l0 = LatentKernels.CountNonZero(latents.Span) / (double)testClean.Shape[0];
        var ranking = Ranking(node, attribute, best.Candidate);
        var dictionary = Dictionary(node);
        var codes = dictionary.Codes(attribute).Values.ToList();
        var selection = new NodeSelection(node, attribute, variant, best.Candidate.Name, best.Candidate.Epoch, best.Candidate.Directory,
            best.Distance, options.OracleSelection ? best.Distance : Distance(best.Candidate, test), quality.ExplainedVariance, l0,
            MeanMaxCosine(best.Candidate.Sae.Parameters["W_dec"], codes), ranking.Scores.Keys.Average(ranking.Best),
            best.Stats.LdRecovered, Spearman.Correlation(distances, [.. scored.Select(s => s.Stats.L0)]),
            Spearman.Correlation(distances, [.. scored.Select(s => Math.Abs(1 - s.Stats.LdRecovered))]), scored.Count);
        _selected[(node, attribute, variant, trainedWith)] = (best.Candidate, ranking, selection with { Seed = trainedWith });
        return (best.Candidate, ranking);
    }

    /// <summary>
    /// The greedy agnostic edit of a candidate on a split, in its normalised space. Test-split edits are kept: the
    /// selected SAE's test edit gives both its test distance and the edit the cross-section is scored with.
    /// </summary>
    public SaeEdit AgnosticEdit(SaeCandidate candidate, SiteNode node, IoiAttribute attribute, SiteActivations split)
    {
        bool keep = ReferenceEquals(split, test);
        if (keep && _testEdits.TryGetValue((candidate.Directory, attribute), out var kept)) return kept;
        var edit = SaeEdits.Greedy(candidate.Sae, ActivationScale.Apply(split.Get(node, PromptVariant.Clean), candidate.Scale),
            ActivationScale.Apply(split.Get(node, PromptVariants.Of(attribute)), candidate.Scale), options.AgnosticLatents);
        if (keep) _testEdits[(candidate.Directory, attribute)] = edit;
        return edit;
    }

    /// <summary>
    /// A candidate's L0 and logit difference recovered on the first <see cref="EditOptions.LdPrompts"/> prompts of the
    /// selection split: the node alone replaced by its SAE reconstruction, against the node set to its mean activation
    /// over those prompts (method notes §6; means first, then the ratio).
    /// </summary>
    private (double L0, double LdRecovered) CandidateStats(SiteNode node, SaeCandidate candidate)
    {
        if (_candidateStats.TryGetValue(candidate.Directory, out var stats)) return stats;
        var split = options.OracleSelection ? test : validation;
        var examples = options.OracleSelection ? dataset.Test : dataset.Validation;
        // Every candidate's run repeats these prompts with one node patched: each starts at its node's layer.
        _ldRuns ??= new CleanRunCache(model, [.. examples.Take(options.LdPrompts).Select(e => e.Clean)], candidates.Keys.Select(n => n.Layer));
        int n = _ldRuns.Prompts.Count;
        var clean = split.Get(node, PromptVariant.Clean).Slice(0, n);
        double MeanLd(IoiScore[] scores) => scores.Average(s => (double)s.LogitDiff);

        if (!_meanAblatedLd.TryGetValue(node, out double meanLd))
        {
            var mean = new Tensor(clean.Shape);
            var average = new float[clean.Shape[1]];
            for (int p = 0; p < n; p++) System.Numerics.Tensors.TensorPrimitives.Add(average, clean.Row(p), average);
            System.Numerics.Tensors.TensorPrimitives.Divide(average, n, average);
            for (int p = 0; p < n; p++) average.CopyTo(mean.Row(p));
            _meanAblatedLd[node] = meanLd = MeanLd(_ldRuns.Score(new Dictionary<SiteNode, Tensor> { [node] = mean }));
        }
        var latents = candidate.Latents(clean);
        var reconstruction = candidate.Reconstruction(latents);
        double saeLd = MeanLd(_ldRuns.Score(new Dictionary<SiteNode, Tensor> { [node] = reconstruction }));
        stats = (LatentKernels.CountNonZero(latents.Span) / (double)n, Math.Abs(saeLd - meanLd) / Math.Abs(MeanLd(_ldRuns.Clean) - meanLd));
        _candidateStats[candidate.Directory] = stats;
        return stats;
    }

    /// <summary>Mean over decoder rows of the best cosine with any of the codes (method notes §6).</summary>
    private static double MeanMaxCosine(Tensor decoder, IReadOnlyList<float[]> codes) =>
        Enumerable.Range(0, decoder.Shape[0]).Average(j =>
            codes.Max(code => (double)System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(decoder.Row(j), code)));
}
