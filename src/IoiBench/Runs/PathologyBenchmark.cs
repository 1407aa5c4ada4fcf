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
        var comparison = new NextTokenComparison(model, [.. dataset.Test.Take(n).Select(e => e.Clean)],
            crossSections.SelectMany(s => s.Nodes).Select(node => node.Layer), progress);
        var results = new List<PathologyResult>();
        var measured = new Dictionary<(SiteNode, IoiAttribute, string), Pathology>();
        foreach (var section in crossSections)
            foreach (string method in (string[])["supervised", .. selector.Variants])
            {
                var reconstructions = section.Nodes.ToDictionary(node => node, node => Reconstruct(node, section.Attribute, method, n));
                foreach (var (node, reconstruction) in reconstructions)
                {
                    if (measured.ContainsKey((node, section.Attribute, method))) continue;   // a node shared by two cross-sections
                    var alone = measured[(node, section.Attribute, method)] = ErrorPathology.Measure(comparison,
                        new Dictionary<SiteNode, (Tensor, Tensor)> { [node] = reconstruction.Pair }, seed, progress, $"error pathology {node}: {method}");
                    results.Add(new PathologyResult(ScopeKind.Node, node.ToString(), section.Attribute, method, reconstruction.Sae, alone));
                }
                // A one-node cross-section is its node.
                var together = section.Nodes.Count == 1 ? measured[(section.Nodes[0], section.Attribute, method)]
                    : ErrorPathology.Measure(comparison, reconstructions.ToDictionary(r => r.Key, r => r.Value.Pair), seed, progress, $"error pathology {section.Name}: {method}");
                results.Add(new PathologyResult(ScopeKind.CrossSection, section.Name, section.Attribute, method,
                    string.Join(", ", reconstructions.Values.Select(r => r.Sae).Distinct()), together));
            }
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
