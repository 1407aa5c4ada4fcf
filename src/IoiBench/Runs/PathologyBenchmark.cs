using IoiBench.Activations;
using IoiBench.Metrics;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>
/// The error pathology of one method on one scope: Method "supervised" (the supervised reconstruction
/// μ + u_IO + u_S + u_Pos) or an SAE variant (the SAE selected for the scope's attribute); Sae names the SAE(s).
/// </summary>
public sealed record PathologyResult(ScopeKind Kind, string Scope, IoiAttribute Attribute, string Method, string Sae, Pathology Values);

/// <summary>
/// Error pathology for every node of every cross-section and for each cross-section's nodes replaced together: the
/// supervised reconstruction and each variant's selected SAE, against ε-random points at the same distance, on the
/// first <paramref name="prompts"/> test prompts.
/// </summary>
public sealed class PathologyBenchmark(ITransformer model, IoiDataset dataset, SiteActivations test, SaeSelector selector, int prompts, ulong seed)
{
    public List<PathologyResult> Run(IReadOnlyList<CrossSection> crossSections, IProgress<ProgressUpdate>? progress = null)
    {
        int n = Math.Min(prompts, dataset.Test.Count);
        // What is measured: each node alone (once, even when two cross-sections share it), then each cross-section's
        // nodes together (a one-node cross-section is its node), for the supervised reconstruction and each variant.
        var plan = new List<(ScopeKind Kind, string Scope, CrossSection Section, IReadOnlyList<SiteNode> Nodes, string Method)>();
        var planned = new HashSet<(SiteNode, IoiAttribute, string)>();
        foreach (var section in crossSections)
            foreach (string method in (string[])["supervised", .. selector.VariantsCovering(section.Nodes)])
            {
                foreach (var node in section.Nodes.Where(node => planned.Add((node, section.Attribute, method))))
                    plan.Add((ScopeKind.Node, node.ToString(), section, [node], method));
                plan.Add((ScopeKind.CrossSection, section.Name, section, section.Nodes, method));
            }
        var stage = new StageProgress(progress, "error pathology", (long)n * (1 + 2 * plan.Count(p => p.Nodes.Count > 1 || p.Kind == ScopeKind.Node)));
        var comparison = new NextTokenComparison(model, [.. dataset.Test.Take(n).Select(e => e.Clean)],
            crossSections.SelectMany(s => s.Nodes).Select(node => node.Layer), stage.Step("clean next-token distribution", n));
        var results = new List<PathologyResult>();
        var measured = new Dictionary<(SiteNode, IoiAttribute, string), Pathology>();
        foreach (var (kind, scope, section, nodes, method) in plan)
        {
            var reconstructions = nodes.ToDictionary(node => node, node => Reconstruct(node, section.Attribute, method, n));
            var values = kind == ScopeKind.CrossSection && nodes.Count == 1 ? measured[(nodes[0], section.Attribute, method)]
                : ErrorPathology.Measure(comparison, reconstructions.ToDictionary(r => r.Key, r => r.Value.Pair), seed,
                    stage.Step($"{scope}: {method}", 2L * n));
            if (kind == ScopeKind.Node) measured[(nodes[0], section.Attribute, method)] = values;
            results.Add(new PathologyResult(kind, scope, section.Attribute, method, string.Join(", ", reconstructions.Values.Select(r => r.Sae).Distinct()), values));
        }
        stage.Finish();
        return results;
    }

    /// <summary>The node's first <paramref name="n"/> clean test activations and their reconstruction, in raw scale.</summary>
    private ((Tensor Original, Tensor Reconstruction) Pair, string Sae) Reconstruct(SiteNode node, IoiAttribute attribute, string method, int n)
    {
        var original = test.Get(node, PromptVariant.Clean).Slice(0, n);
        if (method == "supervised")
        {
            var dictionary = selector.Dictionary(node);
            var reconstruction = new Tensor(original.Shape);
            for (int p = 0; p < n; p++) dictionary.Reconstruct(dataset.Test[p].Clean.Prompt).CopyTo(reconstruction.Row(p));
            return ((original, reconstruction), "-");
        }
        var (sae, _) = selector.Select(node, attribute, method);
        return ((original, sae.Reconstruction(sae.Latents(original))), $"{sae.Name}@{sae.Epoch}");
    }
}
