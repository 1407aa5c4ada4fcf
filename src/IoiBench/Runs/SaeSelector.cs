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

/// <summary>The SAE chosen for a node, attribute, variant and training seed (for <see cref="EditType"/>, or "both"), the
/// mean distance to the counterfactual its edits reached (selection split and test), its test explained variance and
/// L0, and how it relates to the supervised features. SupervisedCosine: mean over decoder rows of the best cosine with
/// the attribute's supervised codes u_f[v]; BestF1: mean over the attribute's values of the best latent's F1 (on the F1
/// split); LdRecovered: |LD_sae − LD_mean| / |LD_clean − LD_mean| with the node alone replaced (1 = perfect);
/// SpearmanL0, SpearmanLd: over the candidates, the rank correlation of the distance with L0 and with
/// |1 − LD recovered|.</summary>
public sealed record NodeSelection(SiteNode Node, IoiAttribute Attribute, string Variant, string Sae, int Epoch, string Directory,
    double SelectionDistance, double TestDistance, double ExplainedVariance, double L0, double SupervisedCosine, double BestF1,
    double LdRecovered, double SpearmanL0, double SpearmanLd, int Candidates)
{
    /// <summary>The training seed of the chosen SAE's candidates.</summary>
    public ulong Seed { get; init; }

    /// <summary>The edit the SAE was chosen for: "both" (the agnostic edit's distance chose it for both) or one edit type.</summary>
    public string EditType { get; init; } = "both";

    /// <summary>Every candidate the selection scored (empty in run.json files from before they were recorded).</summary>
    public IReadOnlyList<CandidateScore> CandidateScores { get; init; } = [];
}

/// <summary>
/// One candidate SAE of a selection: its name and epoch, the distance its edits left to the counterfactual on the
/// selection split, its L0 and its LD recovered (as the Spearman readouts use them).
/// </summary>
public sealed record CandidateScore(string Sae, int Epoch, double Distance, double L0, double LdRecovered);

/// <summary>
/// Chooses, for each node, attribute, SAE variant and training seed, the SAE (λ or k, and checkpoint) whose edits land
/// closest to the counterfactual activation, by the <see cref="EditOptions.Selection"/> rule, and keeps what the choice
/// needs and produces: the supervised dictionaries, each candidate's L0 and LD recovered, the F1 rankings and the
/// test-split edits.
/// </summary>
public sealed class SaeSelector(ITransformer model, IoiDataset dataset, SiteActivations train, SiteActivations validation, SiteActivations test,
    IReadOnlyDictionary<SiteNode, List<SaeCandidate>> candidates, EditOptions options)
{
    private readonly Dictionary<SiteNode, SupervisedDictionary> _dictionaries = new();
    private readonly Dictionary<(SiteNode, IoiAttribute, string, ulong, EditType), (SaeCandidate Sae, F1Ranking Ranking, NodeSelection Selection)> _selected = new();
    private readonly Dictionary<string, (double L0, double LdRecovered)> _candidateStats = new();
    private readonly Dictionary<(string Directory, IoiAttribute Attribute), F1Ranking> _rankings = new();
    private readonly Dictionary<SiteNode, double> _meanAblatedLd = new();
    private readonly Dictionary<(string Directory, IoiAttribute Attribute), SaeEdit> _testEdits = new();
    private CleanRunCache? _ldRuns;

    private SiteActivations SelectionSplit => options.SelectsOnTest ? test : validation;
    private IReadOnlyList<IoiExample> SelectionExamples => options.SelectsOnTest ? dataset.Test : dataset.Validation;

    /// <summary>Every selection made so far (one per edit type under the reference rule, else one for both).</summary>
    public IReadOnlyCollection<NodeSelection> Selections =>
        [.. _selected.Where(s => options.Selection == SelectionRule.Reference || s.Key.Item5 == EditType.Agnostic).Select(s => s.Value.Selection)];

    /// <summary>The SAE variants among the candidates, in order of first appearance.</summary>
    public IReadOnlyList<string> Variants { get; } = [.. candidates.Values.SelectMany(c => c).Select(c => c.Variant).Distinct()];

    /// <summary>The training seeds among the candidates, the first being the one the readouts use.</summary>
    public IReadOnlyList<ulong> Seeds { get; } = [.. candidates.Values.SelectMany(c => c).Select(c => c.Seed).Distinct()];

    private ulong FirstSeed => Seeds.Count > 0 ? Seeds[0] : 0;

    private readonly Dictionary<string, List<ulong>> _seedsOf = candidates.Values.SelectMany(c => c).GroupBy(c => c.Variant)
        .ToDictionary(g => g.Key, g => g.Select(c => c.Seed).Distinct().ToList());

    /// <summary>
    /// Whether the variant has a candidate of the seed (default: the first) at every one of <paramref name="nodes"/>:
    /// trained variants cover every node; an imported SAE only those at its hook, and is scored where it covers a scope.
    /// </summary>
    public bool Covers(IEnumerable<SiteNode> nodes, string variant, ulong? seed = null) =>
        nodes.All(node => candidates.TryGetValue(node, out var list) && list.Any(c => c.Variant == variant && c.Seed == (seed ?? FirstSeed)));

    /// <summary>The variants that cover all of <paramref name="nodes"/> (<see cref="Covers"/>), in order.</summary>
    public IReadOnlyList<string> VariantsCovering(IReadOnlyCollection<SiteNode> nodes) => [.. Variants.Where(v => Covers(nodes, v))];

    /// <summary>The seeds a variant has candidates of, the first seed first.</summary>
    public IReadOnlyList<ulong> SeedsOf(string variant) => _seedsOf.TryGetValue(variant, out var seeds) ? seeds : [];

    /// <summary>The node's supervised dictionary, fitted on the train split's clean activations.</summary>
    public SupervisedDictionary Dictionary(SiteNode node)
    {
        if (!_dictionaries.TryGetValue(node, out var dictionary))
            _dictionaries[node] = dictionary = SupervisedDictionary.Fit(node, train.Get(node, PromptVariant.Clean), [.. dataset.Train.Select(e => e.Clean.Prompt)]);
        return dictionary;
    }

    /// <summary>
    /// F1 of a candidate's latents for the attribute's values, on the F1 split's clean activations (train by default:
    /// it contains every counterfactual name; test as the reference, where no counterfactual IO name occurs).
    /// </summary>
    private F1Ranking Ranking(SiteNode node, IoiAttribute attribute, SaeCandidate sae)
    {
        if (_rankings.TryGetValue((sae.Directory, attribute), out var ranking)) return ranking;
        var (split, examples) = options.F1Split == F1Split.Test ? (test, dataset.Test) : (train, dataset.Train);
        ranking = F1Ranking.Fit(sae.Latents(split.Get(node, PromptVariant.Clean)), [.. examples.Select(e => e.Clean.Prompt.ValueOf(attribute))]);
        _rankings[(sae.Directory, attribute)] = ranking;
        return ranking;
    }

    /// <summary>
    /// Makes every selection the readouts will ask for, in order, as one progress stage: for each (node, attribute) pair,
    /// the node's supervised dictionary and each variant's SAE of the first seed, and for the pairs in
    /// <paramref name="everySeed"/> the other seeds' too (selections run forward passes and fill shared caches, so they
    /// are made one at a time, before readouts that run in parallel).
    /// </summary>
    public void SelectAll(IEnumerable<(SiteNode Node, IoiAttribute Attribute)> pairs, IProgress<ProgressUpdate>? progress = null,
        IEnumerable<(SiteNode Node, IoiAttribute Attribute)>? everySeed = null)
    {
        var firstSeed = pairs.Distinct().Select(p => (p.Node, p.Attribute, Seed: FirstSeed));
        var otherSeeds = (everySeed ?? []).Distinct().SelectMany(p => Seeds.Skip(1).Select(seed => (p.Node, p.Attribute, Seed: seed)));
        var all = firstSeed.Concat(otherSeeds).ToList();
        long done = 0, total = all.Sum(p => (long)Variants.Count(v => Covers([p.Node], v, p.Seed)));
        foreach (var (node, attribute, seed) in all)
        {
            Dictionary(node);
            foreach (string variant in Variants.Where(v => Covers([node], v, seed)))
            {
                foreach (var type in Enum.GetValues<EditType>()) Select(node, attribute, variant, seed, type);
                string seedNote = Seeds.Count > 1 ? $" seed {seed}" : "";
                progress?.Report(new ProgressUpdate("SAE selection", ++done, total, $"{node} {attribute.ToString().ToUpperInvariant()} {variant}{seedNote}"));
            }
        }
    }

    /// <summary>
    /// The candidate whose edits land closest (mean L2, raw scale) to the counterfactual activations on the selection
    /// split, and its F1 ranking for the attribute. Under the validation and oracle rules the agnostic edits choose one
    /// SAE for both edit types; under the reference rule each edit type is chosen by its own edits.
    /// </summary>
    public (SaeCandidate Sae, F1Ranking Ranking) Select(SiteNode node, IoiAttribute attribute, string variant, ulong? seed = null,
        EditType type = EditType.Agnostic)
    {
        ulong trainedWith = seed ?? FirstSeed;
        if (options.Selection != SelectionRule.Reference) type = EditType.Agnostic;
        if (_selected.TryGetValue((node, attribute, variant, trainedWith, type), out var chosen)) return (chosen.Sae, chosen.Ranking);
        var pool = Pool(node, variant, trainedWith);
        var scored = pool.Select(c => (Candidate: c, Distance: Distance(c, node, attribute, type, SelectionSplit), Stats: CandidateStats(node, c))).ToList();
        var best = scored.MinBy(s => s.Distance);
        var distances = scored.Select(s => s.Distance).ToList();
        var testClean = ActivationScale.Apply(test.Get(node, PromptVariant.Clean), best.Candidate.Scale);
        var latents = best.Candidate.Sae.Encode(testClean);
        var quality = ReconstructionQuality.Measure(testClean, best.Candidate.Sae.Decode(latents));
        double l0 = LatentKernels.CountNonZero(latents.Span) / (double)testClean.Shape[0];
        var ranking = Ranking(node, attribute, best.Candidate);
        var codes = Dictionary(node).Codes(attribute).Values.ToList();
        var selection = new NodeSelection(node, attribute, variant, best.Candidate.Name, best.Candidate.Epoch, best.Candidate.Directory,
            best.Distance, options.SelectsOnTest ? best.Distance : Distance(best.Candidate, node, attribute, type, test), quality.ExplainedVariance, l0,
            MeanMaxCosine(best.Candidate.Sae.Parameters["W_dec"], codes), ranking.Scores.Keys.Average(ranking.Best),
            best.Stats.LdRecovered, Spearman.Correlation(distances, [.. scored.Select(s => s.Stats.L0)]),
            Spearman.Correlation(distances, [.. scored.Select(s => Math.Abs(1 - s.Stats.LdRecovered))]), scored.Count)
        {
            Seed = trainedWith,
            EditType = options.Selection == SelectionRule.Reference ? type.ToString().ToLowerInvariant() : "both",
            CandidateScores = [.. scored.Select(s => new CandidateScore(s.Candidate.Name, s.Candidate.Epoch, s.Distance, s.Stats.L0, s.Stats.LdRecovered))],
        };
        _selected[(node, attribute, variant, trainedWith, type)] = (best.Candidate, ranking, selection);
        return (best.Candidate, ranking);
    }

    /// <summary>
    /// The candidates a selection chooses among: the variant's SAEs of the seed at the node, every λ or k and checkpoint;
    /// under the reference rule only the final SAEs, and of a k-based variant only its smallest k (the reference's
    /// figures use top-k with k = 3, makelov2024's smallest).
    /// </summary>
    private List<SaeCandidate> Pool(SiteNode node, string variant, ulong seed)
    {
        var pool = candidates.TryGetValue(node, out var list) ? list.Where(c => c.Variant == variant && c.Seed == seed).ToList() : [];
        if (options.Selection == SelectionRule.Reference)
        {
            pool = [.. pool.Where(c => c.Final)];
            if (pool.Count > 0 && pool[0].Sae.Variant.IntegerSparsity) pool = [.. pool.Where(c => c.Value == pool.Min(x => x.Value))];
        }
        if (pool.Count == 0) throw new InvalidInputException($"no {variant} SAE of seed {seed} for node {node}" +
                                                            (options.Selection == SelectionRule.Reference ? " that finished training." : "."));
        return pool;
    }

    /// <summary>Mean L2 distance (raw scale) from a candidate's edits of one type to the counterfactual activations on a split.</summary>
    private double Distance(SaeCandidate candidate, SiteNode node, IoiAttribute attribute, EditType type, SiteActivations split)
    {
        var cf = split.Get(node, PromptVariants.Of(attribute));
        var edit = type == EditType.Agnostic ? AgnosticEdit(candidate, node, attribute, split) : AwareEdit(candidate, node, attribute, split);
        var edited = ActivationScale.Undo(edit.Edited, candidate.Scale);
        double total = 0;
        for (int p = 0; p < cf.Shape[0]; p++)
            total += System.Numerics.Tensors.TensorPrimitives.Distance(cf.Row(p), edited.Row(p));
        return total / cf.Shape[0];
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

    /// <summary>The F1-ranked aware edit of a candidate on a split (the test split or the validation split), in its normalised space.</summary>
    public SaeEdit AwareEdit(SaeCandidate candidate, SiteNode node, IoiAttribute attribute, SiteActivations split)
    {
        var examples = ReferenceEquals(split, test) ? dataset.Test : ReferenceEquals(split, validation) ? dataset.Validation : dataset.Train;
        return SaeEdits.ByF1(candidate.Sae, ActivationScale.Apply(split.Get(node, PromptVariant.Clean), candidate.Scale),
            ActivationScale.Apply(split.Get(node, PromptVariants.Of(attribute)), candidate.Scale),
            [.. examples.Select(e => e.Clean.Prompt.ValueOf(attribute))], [.. examples.Select(e => e.Counterfactual(attribute).Prompt.ValueOf(attribute))],
            Ranking(node, attribute, candidate), options.AwareLatents, activeIfPositive: options.ReferenceConventions);
    }

    /// <summary>
    /// A candidate's L0 and logit difference recovered on the first <see cref="EditOptions.LdPrompts"/> prompts of the
    /// selection split (all of them under the reference conventions): the node alone replaced by its SAE
    /// reconstruction, against the node set to its mean activation over those prompts (means first, then the ratio).
    /// L0 is on the same prompts, or, under the reference conventions, the candidate's training epoch's.
    /// </summary>
    private (double L0, double LdRecovered) CandidateStats(SiteNode node, SaeCandidate candidate)
    {
        if (_candidateStats.TryGetValue(candidate.Directory, out var stats)) return stats;
        int? count = options.ReferenceConventions ? null : options.LdPrompts;
        // Every candidate's run repeats these prompts with one node patched: each starts at its node's layer.
        _ldRuns ??= new CleanRunCache(model, [.. SelectionExamples.Take(count ?? SelectionExamples.Count).Select(e => e.Clean)],
            candidates.Keys.Select(n => n.Layer));
        int n = _ldRuns.Prompts.Count;
        var clean = SelectionSplit.Get(node, PromptVariant.Clean).Slice(0, n);
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
        double l0 = options.ReferenceConventions ? candidate.TrainingL0 : LatentKernels.CountNonZero(latents.Span) / (double)n;
        stats = (l0, Math.Abs(saeLd - meanLd) / Math.Abs(MeanLd(_ldRuns.Clean) - meanLd));
        _candidateStats[candidate.Directory] = stats;
        return stats;
    }

    /// <summary>
    /// Mean over decoder rows of the best cosine with any of the codes; under the reference conventions, of the best
    /// ⟨d_j, u/‖u‖⟩ with the raw decoder row d_j (not a cosine when rows are not unit norm, as top-k's).
    /// </summary>
    private double MeanMaxCosine(Tensor decoder, IReadOnlyList<float[]> codes) =>
        Enumerable.Range(0, decoder.Shape[0]).Average(j => codes.Max(code => options.ReferenceConventions
            ? System.Numerics.Tensors.TensorPrimitives.Dot(decoder.Row(j), code) / (double)System.Numerics.Tensors.TensorPrimitives.Norm(code)
            : System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(decoder.Row(j), code)));
}
