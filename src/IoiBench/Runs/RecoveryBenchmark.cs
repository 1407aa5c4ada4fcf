using IoiBench.Metrics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Runs;

/// <summary>
/// Feature recovery of one attribute value on one cross-section by one variant: the means over the cross-section's
/// nodes of each node's selected SAE's best-latent F1, number of latents with F1 ≥ 0.5, and best decoder cosine with the
/// node's supervised feature u_f[v] (see <see cref="FeatureRecovery"/>).
/// </summary>
public sealed record RecoveryResult(string CrossSection, IoiAttribute Attribute, string Variant, string Value, double BestF1, double Splitting, double MaxCosine);

/// <summary>Feature recovery for every cross-section, variant and value of the cross-section's attribute.</summary>
public sealed class RecoveryBenchmark(SaeSelector selector)
{
    public List<RecoveryResult> Run(IReadOnlyList<CrossSection> crossSections)
    {
        var results = new List<RecoveryResult>();
        foreach (var section in crossSections)
            foreach (string variant in selector.VariantsCovering(section.Nodes))
            {
                var perNode = section.Nodes.Select(node =>
                {
                    var (sae, ranking) = selector.Select(node, section.Attribute, variant);
                    return FeatureRecovery.Measure(ranking, sae.Sae.Parameters["W_dec"], selector.Dictionary(node).Codes(section.Attribute));
                }).ToList();
                foreach (var value in perNode.SelectMany(rows => rows.Select(r => r.Value)).Distinct().Order(StringComparer.Ordinal))
                {
                    var rows = perNode.Select(r => r.Single(x => x.Value == value)).ToList();
                    results.Add(new RecoveryResult(section.Name, section.Attribute, variant, value,
                        rows.Average(r => r.BestF1), rows.Average(r => (double)r.Splitting), rows.Average(r => r.MaxCosine)));
                }
            }
        return results;
    }
}
