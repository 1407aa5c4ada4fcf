using IoiBench.Activations;
using IoiBench.Behaviour;
using IoiBench.Edits;
using IoiBench.Metrics;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>One leaderboard row: an edit method (and SAE variant) on one cross-section, over the test prompts.</summary>
public sealed record EditResult(string CrossSection, string Label, IoiAttribute Attribute, string Method, string Variant,
    Estimate EditAccuracy, Estimate WeightRemoved, Estimate LogitDiff, Estimate IoiAccuracy)
{
    /// <summary>The training seed of the SAEs an SAE edit used; null for the rows that use no SAE.</summary>
    public ulong? Seed { get; init; }
}

/// <summary>
/// One node of a cross-section of several edited alone (its other nodes left clean), scored against the whole
/// cross-section's counterfactual patch: the node's share in the cross-section's edit. Weight removed is the node's own.
/// </summary>
public sealed record NodeEditResult(string CrossSection, string Node, string Method, string Variant, Estimate EditAccuracy,
    Estimate WeightRemoved);

/// <summary>
/// Edits every cross-section of a sites file with the supervised features and with each SAE variant (greedy
/// interpretation-agnostic and F1-ranked interpretation-aware), plus the baselines (no intervention, counterfactual
/// patching, and the subspace edits of <see cref="BaselineEdits"/>, DAS's among them), and scores them on the test split: edit accuracy
/// (argmax over the full vocabulary agrees with the counterfactual-patched run), weight removed, logit difference and
/// IOI accuracy, each with a 95% bootstrap interval. Each node's SAE per attribute and variant comes from the
/// <see cref="SaeSelector"/>.
/// </summary>
public sealed class EditBenchmark(ITransformer model, Gpt2Weights weights, IoiDataset dataset, SiteActivations train, SiteActivations test,
    SaeSelector selector, EditOptions options)
{
    private readonly BaselineEdits _baselines = new(weights, selector, dataset, train, test, options);

    /// <summary>What DAS's training cost at each cross-section <see cref="Run"/> edited.</summary>
    public IReadOnlyList<DasTrainingRecord> DasTraining => _baselines.DasTraining;

    private readonly List<NodeEditResult> _nodeEdits = [];

    /// <summary>
    /// Each node of every cross-section of several <see cref="Run"/> edited, alone, on the first
    /// <see cref="EditOptions.NodeEditPrompts"/> test prompts: the counterfactual patch, the supervised edit and the
    /// first seed's SAE edits there.
    /// </summary>
    public IReadOnlyList<NodeEditResult> NodeEdits => _nodeEdits;

    /// <summary>
    /// Every row of every cross-section: the baselines, the supervised edit, and each variant's two edits with the SAEs
    /// of each training seed (the first seed's rows first, then the other seeds').
    /// </summary>
    public List<EditResult> Run(IReadOnlyList<CrossSection> crossSections, IProgress<ProgressUpdate>? progress = null)
    {
        // One pass over the test prompts for the clean run, then per cross-section the counterfactual patch, the
        // supervised edit, the baselines (four, and each random draw) and two edits per variant and seed.
        int n = dataset.Test.Count;
        long saeRuns = crossSections.Sum(s => selector.VariantsCovering(s.Nodes).Sum(v => 2L * selector.SeedsOf(v).Count));
        int perSection = 2 + 5 + options.RandomDraws;
        int alonePrompts = Math.Min(options.NodeEditPrompts, n);
        var severalNodes = crossSections.Where(s => s.Nodes.Count > 1).ToList();
        long nodeAloneRuns = alonePrompts == 0 ? 0 : severalNodes.Sum(s => s.Nodes.Count * (2L + 2 * selector.VariantsCovering(s.Nodes).Count));
        var stage = new StageProgress(progress, "edits", (long)n * (1 + crossSections.Count * perSection + saeRuns) +
            alonePrompts * (severalNodes.Count > 0 ? 1 : 0) + alonePrompts * nodeAloneRuns + crossSections.Count * DasTrainingUnits);
        // Each cross-section's runs start at its first node's layer, from the clean run's residual stream.
        var runs = new CleanRunCache(model, [.. dataset.Test.Select(e => e.Clean)], crossSections.Select(s => s.Nodes.Min(n => n.Layer)),
            progress: stage.Step("clean run", n));
        // The nodes edited alone: a clean run of their prompts, and each edit's first rows.
        var alone = alonePrompts == 0 || severalNodes.Count == 0 ? null
            : new CleanRunCache(model, [.. runs.Prompts.Take(alonePrompts)], severalNodes.Select(s => s.Nodes.Min(n => n.Layer)),
                progress: stage.Step("clean run for the nodes alone", alonePrompts));
        var results = new List<EditResult>();
        foreach (var section in crossSections) results.AddRange(RunCrossSection(section, runs, alone, stage));
        stage.Finish();
        return results;
    }

    private IEnumerable<EditResult> RunCrossSection(CrossSection section, CleanRunCache runs, CleanRunCache? alone, StageProgress stage)
    {
        var prompts = runs.Prompts;
        var attribute = section.Attribute;
        var cfVariant = PromptVariants.Of(attribute);
        var cleanValues = dataset.Test.Select(e => e.Clean.Prompt.ValueOf(attribute)).ToList();
        var cfValues = dataset.Test.Select(e => e.Counterfactual(attribute).Prompt.ValueOf(attribute)).ToList();
        int n = prompts.Count;
        var cfActivations = section.Nodes.ToDictionary(node => node, node => test.Get(node, cfVariant));
        var cfScores = runs.Score(cfActivations, stage.Step($"{section.Name}: counterfactual patch", n));

        // A row over the test prompts; with several runs (the random draws), each prompt's term is their mean.
        EditResult Result(string method, string variant, IReadOnlyList<IoiScore[]> draws, IReadOnlyList<double> weightRemoved)
        {
            ulong seed = options.Seed;
            double[] PerPrompt(Func<IoiScore[], double[]> term) => MeanPerPrompt([.. draws.Select(term)]);
            return new EditResult(section.Name, section.Label, attribute, method, variant,
                Bootstrap.Mean(PerPrompt(d => PatchedRun.Agreement(d, cfScores)), seed: seed),
                Bootstrap.Mean(weightRemoved, seed: seed),
                Bootstrap.Mean(PerPrompt(d => [.. d.Select(s => (double)s.LogitDiff)]), seed: seed),
                Bootstrap.Mean(PerPrompt(d => [.. d.Select(s => s.Correct ? 1.0 : 0.0)]), seed: seed));
        }

        // A cross-section of several nodes: each node edited alone on the first prompts, against the same counterfactual patch.
        void NodeAlone(string method, string variant, IReadOnlyDictionary<SiteNode, Tensor> edited, Func<SiteNode, double[]> weightRemoved)
        {
            if (section.Nodes.Count < 2 || alone is null) return;
            int m = alone.Prompts.Count;
            int[] first = [.. Enumerable.Range(0, m)];
            foreach (var node in section.Nodes)
            {
                var scores = alone.Score(new Dictionary<SiteNode, Tensor> { [node] = edited[node].Rows(first) },
                    stage.Step($"{section.Name}: {method}{(variant == "-" ? "" : " " + variant)} at {node} alone", m));
                _nodeEdits.Add(new NodeEditResult(section.Name, node.ToString(), method, variant,
                    Bootstrap.Mean(PatchedRun.Agreement(scores, cfScores[..m]), seed: options.Seed),
                    Bootstrap.Mean(weightRemoved(node)[..m], seed: options.Seed)));
            }
        }

        yield return Result("none", "-", [runs.Clean], [.. prompts.Select(_ => 0.0)]);
        yield return Result("counterfactual patch", "-", [cfScores], [.. prompts.Select(_ => double.NaN)]);
        NodeAlone("counterfactual patch", "-", cfActivations, _ => [.. prompts.Select(_ => double.NaN)]);

        // Supervised: a − u[clean value] + u[counterfactual value]; weight removed = the attribute's weight w_f.
        var supervised = new Dictionary<SiteNode, Tensor>();
        var supervisedWeight = new Dictionary<SiteNode, double[]>();
        foreach (var node in section.Nodes)
        {
            var dictionary = selector.Dictionary(node);
            var edited = test.Get(node, PromptVariant.Clean).Clone();
            var weight = new double[prompts.Count];
            for (int p = 0; p < prompts.Count; p++)
            {
                dictionary.Edit(edited.Row(p), attribute, cleanValues[p], cfValues[p]);
                weight[p] = dictionary.Weights(prompts[p].Prompt)[attribute];
            }
            supervised[node] = edited;
            supervisedWeight[node] = weight;
        }
        yield return Result("supervised", "-", [runs.Score(supervised, stage.Step($"{section.Name}: supervised", n))],
            MeanOverNodes(supervisedWeight, prompts.Count));
        NodeAlone("supervised", "-", supervised, node => supervisedWeight[node]);

        foreach (var (method, draws) in _baselines.Run(section, () => stage.Step($"{section.Name}: das training", DasTrainingUnits)))
        {
            var scores = draws.Select((edit, i) =>
                runs.Score(edit.Edited, stage.Step($"{section.Name}: {method}{(draws.Count > 1 ? $" draw {i + 1}" : "")}", n))).ToList();
            yield return Result(method, "-", scores, MeanPerPrompt([.. draws.Select(d => d.WeightRemoved)]));
        }

        foreach (var (variant, seed) in selector.VariantsCovering(section.Nodes).SelectMany(v => selector.SeedsOf(v).Select(seed => (v, seed))))
        {
            string detail = selector.Seeds.Count > 1 ? $"{variant} seed {seed}" : variant;
            var agnostic = new Dictionary<SiteNode, Tensor>();
            var aware = new Dictionary<SiteNode, Tensor>();
            var agnosticWeight = new Dictionary<SiteNode, double[]>();
            var awareWeight = new Dictionary<SiteNode, double[]>();
            foreach (var node in section.Nodes)
            {
                var clean = test.Get(node, PromptVariant.Clean);
                var (sae, _) = selector.Select(node, attribute, variant, seed, EditType.Agnostic);
                var greedy = selector.AgnosticEdit(sae, node, attribute, test);
                agnostic[node] = ActivationScale.Undo(greedy.Edited, sae.Scale);
                agnosticWeight[node] = SaeEdits.WeightRemoved(sae.Sae, ActivationScale.Apply(clean, sae.Scale), greedy.Removed);

                var (awareSae, _) = selector.Select(node, attribute, variant, seed, EditType.Aware);
                var byF1 = selector.AwareEdit(awareSae, node, attribute, test);
                aware[node] = ActivationScale.Undo(byF1.Edited, awareSae.Scale);
                awareWeight[node] = SaeEdits.WeightRemoved(awareSae.Sae, ActivationScale.Apply(clean, awareSae.Scale), byF1.Removed);
            }
            yield return Result("agnostic", variant, [runs.Score(agnostic, stage.Step($"{section.Name}: {detail} agnostic", n))],
                MeanOverNodes(agnosticWeight, prompts.Count)) with { Seed = seed };
            yield return Result("aware", variant, [runs.Score(aware, stage.Step($"{section.Name}: {detail} aware", n))],
                MeanOverNodes(awareWeight, prompts.Count)) with { Seed = seed };
            if (seed != selector.SeedsOf(variant)[0]) continue;
            NodeAlone("agnostic", variant, agnostic, node => agnosticWeight[node]);
            NodeAlone("aware", variant, aware, node => awareWeight[node]);
        }
    }

    /// <summary>DAS's training in the stage's units, forward passes over prompts: a forward and backward pass is about three.</summary>
    private long DasTrainingUnits => 3L * options.DasTrain * options.Das.MaxEpochs;

    /// <summary>Each prompt's mean over the runs (one run: its values unchanged).</summary>
    private static double[] MeanPerPrompt(IReadOnlyList<double[]> runs) =>
        runs.Count == 1 ? runs[0] : [.. Enumerable.Range(0, runs[0].Length).Select(p => runs.Average(r => r[p]))];

    /// <summary>Each prompt's weight removed, the mean over the nodes' (added in node order).</summary>
    private static double[] MeanOverNodes(Dictionary<SiteNode, double[]> perNode, int prompts)
    {
        var total = new double[prompts];
        foreach (var weight in perNode.Values)
            for (int p = 0; p < prompts; p++) total[p] += weight[p] / perNode.Count;
        return total;
    }
}
