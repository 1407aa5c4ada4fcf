using IoiBench.Edits;
using IoiBench.Numerics;

namespace IoiBench.Metrics;

/// <summary>
/// How well one SAE's latents recover one attribute value v: BestF1, the F1 of its best latent as a detector of v;
/// Splitting, how many latents reach F1 ≥ 0.5 (more than one: the value is split across latents); MaxCosine, the best
/// cosine between a decoder row and the value's supervised feature u_f[v].
/// </summary>
public sealed record ValueRecovery(string Value, double BestF1, int Splitting, double MaxCosine);

public static class FeatureRecovery
{
    public const double SplittingThreshold = 0.5;

    /// <summary>
    /// One row per value with an F1 score and a supervised feature. Undefined F1 scores (a latent that never fires)
    /// count as 0.
    /// </summary>
    /// <param name="decoder">W_dec, [d_sae, d]</param>
    /// <param name="features">u_f[v] per value, in the same space as the decoder rows</param>
    public static List<ValueRecovery> Measure(F1Ranking f1, Tensor decoder, IReadOnlyDictionary<string, float[]> features)
    {
        var rows = new List<ValueRecovery>();
        foreach (var (value, scores) in f1.Scores.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (!features.TryGetValue(value, out var feature)) continue;
            double best = f1.Best(value);
            int splitting = scores.Count(s => s >= SplittingThreshold);
            double cosine = Enumerable.Range(0, decoder.Shape[0]).Max(j => (double)System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(decoder.Row(j), feature));
            rows.Add(new ValueRecovery(value, best, splitting, cosine));
        }
        return rows;
    }
}
