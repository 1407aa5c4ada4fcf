using IoiBench.Metrics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>
/// Feature recovery of one attribute value by one variant on one scope: at a node, its selected SAE's best-latent F1,
/// number of latents with F1 ≥ 0.5 and best decoder cosine with the node's supervised feature u_f[v] (see
/// <see cref="FeatureRecovery"/>); on a cross-section, the means of those over its nodes.
/// </summary>
public sealed record RecoveryResult(ScopeKind Kind, string Scope, IoiAttribute Attribute, string Variant, string Value, double BestF1,
    double Splitting, double MaxCosine);

/// <summary>
/// Feature recovery at every node of every cross-section (once per node, attribute and variant, even when two
/// cross-sections share the node), then per cross-section, variant and value of its attribute over its nodes.
/// </summary>
public sealed class RecoveryBenchmark(SaeSelector selector)
{
    public List<RecoveryResult> Run(IReadOnlyList<CrossSection> crossSections)
    {
        var nodeRows = new Dictionary<(SiteNode, IoiAttribute, string), List<ValueRecovery>>();
        List<ValueRecovery> AtNode(SiteNode node, IoiAttribute attribute, string variant)
        {
            if (nodeRows.TryGetValue((node, attribute, variant), out var rows)) return rows;
            var (sae, ranking) = selector.Select(node, attribute, variant);
            rows = FeatureRecovery.Measure(ranking, sae.Sae.Parameters["W_dec"], selector.Dictionary(node).Codes(attribute));
            nodeRows[(node, attribute, variant)] = rows;
            return rows;
        }

        var sections = new List<RecoveryResult>();
        foreach (var section in crossSections)
            foreach (string variant in selector.VariantsCovering(section.Nodes))
            {
                var perNode = section.Nodes.Select(node => AtNode(node, section.Attribute, variant)).ToList();
                foreach (var value in perNode.SelectMany(rows => rows.Select(r => r.Value)).Distinct().Order(StringComparer.Ordinal))
                {
                    var rows = perNode.Select(r => r.Single(x => x.Value == value)).ToList();
                    sections.Add(new RecoveryResult(ScopeKind.CrossSection, section.Name, section.Attribute, variant, value,
                        rows.Average(r => r.BestF1), rows.Average(r => (double)r.Splitting), rows.Average(r => r.MaxCosine)));
                }
            }
        var nodes = nodeRows.SelectMany(entry => entry.Value.Select(r => new RecoveryResult(ScopeKind.Node, entry.Key.Item1.ToString(),
            entry.Key.Item2, entry.Key.Item3, r.Value, r.BestF1, r.Splitting, r.MaxCosine)));
        return [.. nodes, .. sections];
    }
}
