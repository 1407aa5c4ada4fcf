using IoiBench.Activations;
using IoiBench.Metrics;
using IoiBench.Numerics;
using IoiBench.Probing;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>
/// How the probes read: TrainExamples, the first examples of the train split the probes are fitted on (every test
/// prompt scores them); K, the feature counts of the sparse probes; L2, the logistic regression's penalty on
/// standardised features; MaxIterations and Tolerance (largest gradient component), where L-BFGS stops. On the embedded
/// model's IO probes at z@1.2@end, stopping there instead of at 10⁻⁵ changed test accuracy by at most 0.003 and took a
/// third of the time.
/// </summary>
public sealed record ProbeOptions(int TrainExamples = 5000, double L2 = 1e-3, int[]? K = null, int MaxIterations = 100, double Tolerance = 1e-4, ulong Seed = 0)
{
    public int[] Ks => K ?? [1, 2, 4, 16];
}

/// <summary>
/// One probe: predicting an attribute from one representation of a scope, on the test split. Method: "raw" (the
/// activations), "supervised" (the projections ⟨a − μ, u_f[v]⟩/‖u_f[v]‖ on the attribute's supervised features) or an
/// SAE variant (the latents of the SAE selected for the node and attribute). K: the number of features kept (the best
/// by train-split class separation); null: all of them. Chosen: the kept features when K is given.
/// </summary>
public sealed record ProbeResult(ScopeKind Kind, string Scope, IoiAttribute Attribute, string Method, int? K, int Features, int Classes,
    IReadOnlyList<string> Chosen, double TrainAccuracy, Estimate TestAccuracy);

/// <summary>
/// Sparse probing of IO, S and Pos at every node of the sites file and every cross-section (its nodes' features side by
/// side): raw activations and supervised codes (all features and the best k), and each variant's SAE latents (the best
/// k). Probes are independent, so they are fitted one scope per core.
/// </summary>
public sealed class ProbingBenchmark(IoiDataset dataset, SiteActivations train, SiteActivations test, SaeSelector selector, ProbeOptions options)
{
    /// <summary>One node's features for one method: train rows, test rows, and a name per column.</summary>
    private sealed record Block(Tensor Train, Tensor Test, Func<int, string> Name);

    public List<ProbeResult> Run(IReadOnlyList<SiteNode> nodes, IReadOnlyList<CrossSection> crossSections, IProgress<ProgressUpdate>? progress = null)
    {
        var scopes = Scopes(nodes, crossSections);
        var missing = crossSections.SelectMany(s => s.Nodes).Where(node => !nodes.Contains(node)).Distinct().ToList();
        if (missing.Count > 0) throw new ArgumentException($"cross-section nodes missing from the node list: {string.Join(", ", missing)}");
        selector.SelectAll(SelectionPairs(nodes, crossSections));

        int n = Math.Min(options.TrainExamples, dataset.Train.Count);
        var results = new List<ProbeResult>[scopes.Count];
        int done = 0;
        ParallelJobs.For(scopes.Count, i =>
        {
            var scope = scopes[i];
            results[i] = Probe(scope.Kind, scope.Name, scope.Nodes, scope.Attribute, n);
            progress?.Report(new ProgressUpdate("probing", Interlocked.Increment(ref done), scopes.Count, $"{scope.Name} {scope.Attribute.ToString().ToUpperInvariant()}"));
        });
        // A one-node cross-section is its node.
        var all = results.SelectMany(r => r).ToList();
        foreach (var section in crossSections.Where(s => s.Nodes.Count == 1))
            all.AddRange(all.Where(r => r.Kind == ScopeKind.Node && r.Scope == section.Nodes[0].ToString() && r.Attribute == section.Attribute)
                .Select(r => r with { Kind = ScopeKind.CrossSection, Scope = section.Name }).ToList());
        return all;
    }

    /// <summary>Every node with every attribute, then each cross-section of several nodes with its attribute.</summary>
    private static List<(ScopeKind Kind, string Name, IReadOnlyList<SiteNode> Nodes, IoiAttribute Attribute)> Scopes(IReadOnlyList<SiteNode> nodes,
        IReadOnlyList<CrossSection> crossSections) =>
        [.. nodes.SelectMany(node => Enum.GetValues<IoiAttribute>().Select(a => (ScopeKind.Node, node.ToString(), (IReadOnlyList<SiteNode>)[node], a)))
            .Concat(crossSections.Where(s => s.Nodes.Count > 1).Select(s => (ScopeKind.CrossSection, s.Name, s.Nodes, s.Attribute)))];

    /// <summary>The (node, attribute) pairs whose SAEs the probes read.</summary>
    public static IEnumerable<(SiteNode Node, IoiAttribute Attribute)> SelectionPairs(IReadOnlyList<SiteNode> nodes, IReadOnlyList<CrossSection> crossSections) =>
        Scopes(nodes, crossSections).SelectMany(s => s.Nodes.Select(n => (n, s.Attribute))).Distinct();

    private List<ProbeResult> Probe(ScopeKind kind, string scope, IReadOnlyList<SiteNode> nodes, IoiAttribute attribute, int n)
    {
        var trainValues = dataset.Train.Take(n).Select(e => e.Clean.Prompt.ValueOf(attribute)).ToList();
        var classes = trainValues.Distinct().Order(StringComparer.Ordinal).Select((v, c) => (v, c)).ToDictionary(x => x.v, x => x.c, StringComparer.Ordinal);
        int[] trainLabels = [.. trainValues.Select(v => classes[v])];
        int[] testLabels = [.. dataset.Test.Select(e => classes.GetValueOrDefault(e.Clean.Prompt.ValueOf(attribute), -1))];

        var results = new List<ProbeResult>();
        void Fit(string method, List<Block> blocks, List<(int Block, int Column)> columns, int? k)
        {
            var outcome = SparseProbe.Fit(Gather(blocks, columns, b => b.Train), trainLabels, Gather(blocks, columns, b => b.Test), testLabels, classes.Count, options.L2, options.MaxIterations, options.Tolerance);
            results.Add(new ProbeResult(kind, scope, attribute, method, k, columns.Count, classes.Count,
                k is null ? [] : [.. columns.Select(c => blocks[c.Block].Name(c.Column))], outcome.TrainAccuracy,
                Bootstrap.Mean(outcome.TestCorrect, seed: options.Seed)));
        }

        foreach (string method in (string[])["raw", "supervised", .. selector.VariantsCovering(nodes)])
        {
            var blocks = nodes.Select(node => Features(node, attribute, method, n)).ToList();
            var all = blocks.SelectMany((b, i) => Enumerable.Range(0, b.Train.Shape[1]).Select(c => (i, c))).ToList();
            if (method is "raw" or "supervised") Fit(method, blocks, all, null);
            // The k columns, over all blocks, that best separate the classes on train (ties: earlier block, lower column).
            var scores = blocks.SelectMany(b => SparseProbe.SeparationScores(b.Train, trainLabels, classes.Count)).ToList();
            foreach (int k in options.Ks) Fit(method, blocks, [.. SparseProbe.Best(scores, k).Select(i => all[i])], k);
        }
        return results;
    }

    private Block Features(SiteNode node, IoiAttribute attribute, string method, int n)
    {
        var trainRaw = train.Get(node, PromptVariant.Clean).Slice(0, n);
        var testRaw = test.Get(node, PromptVariant.Clean);
        switch (method)
        {
            case "raw":
                return new Block(trainRaw, testRaw, i => $"{node}[{i}]");
            case "supervised":
            {
                // Projections on the unit supervised features of the attribute: (a − μ)·Uᵀ, U = [values, d].
                var dictionary = selector.Dictionary(node);
                var values = dictionary.Values(attribute).Order(StringComparer.Ordinal).ToList();
                var directions = new Tensor(values.Count, dictionary.Dimension);
                for (int v = 0; v < values.Count; v++)
                {
                    dictionary.Code(attribute, values[v]).CopyTo(directions.Row(v));
                    float norm = System.Numerics.Tensors.TensorPrimitives.Norm(directions.Row(v));
                    if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(directions.Row(v), norm, directions.Row(v));
                }
                Tensor Codes(Tensor raw)
                {
                    var centred = raw.Clone();
                    for (int p = 0; p < centred.Shape[0]; p++) System.Numerics.Tensors.TensorPrimitives.Subtract(centred.Row(p), dictionary.Mean, centred.Row(p));
                    return Gemm.Multiply(centred, directions, transB: true);
                }
                return new Block(Codes(trainRaw), Codes(testRaw), i => $"{node}:u[{values[i]}]");
            }
            default:
            {
                var (sae, _) = selector.Select(node, attribute, method);
                return new Block(sae.Latents(trainRaw), sae.Latents(testRaw),
                    j => $"{node}:{sae.Name}@{sae.Epoch}#{j}");
            }
        }
    }

    private static Tensor Gather(List<Block> blocks, List<(int Block, int Column)> columns, Func<Block, Tensor> split)
    {
        int rows = split(blocks[0]).Shape[0];
        var result = new Tensor(rows, columns.Count);
        for (int i = 0; i < columns.Count; i++)
        {
            var source = split(blocks[columns[i].Block]);
            int width = source.Shape[1], column = columns[i].Column;
            for (int p = 0; p < rows; p++) result.Buffer[p * columns.Count + i] = source.Buffer[source.Offset + p * width + column];
        }
        return result;
    }
}
