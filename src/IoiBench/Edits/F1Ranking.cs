using IoiBench.Numerics;

namespace IoiBench.Edits;

/// <summary>
/// Latents ranked per attribute value by how well their activity predicts the value (docs/method.md, "Edits"): with A[p, j] =
/// latent j active on prompt p and M[p, v] = prompt p has value v, precision = |A_j ∧ M_v| / |A_j|, recall =
/// |A_j ∧ M_v| / |M_v|, F1 = 2PR / (P + R). An undefined F1 (0/0) ranks last (−∞); ties go to the lower latent index.
/// Values never seen rank every latent at −∞, i.e. by index.
/// </summary>
public sealed class F1Ranking
{
    private readonly Dictionary<string, int[]> _rankings;
    private readonly int _latents;

    public IReadOnlyDictionary<string, double[]> Scores { get; }

    private F1Ranking(Dictionary<string, double[]> scores, int latents)
    {
        Scores = scores;
        _latents = latents;
        _rankings = scores.ToDictionary(s => s.Key, s => Rank(s.Value), StringComparer.Ordinal);
    }

    /// <summary>F1 of every latent for every value, from latent magnitudes [prompts, d_sae] and each prompt's value.</summary>
    public static F1Ranking Fit(Tensor latents, IReadOnlyList<string> values)
    {
        int prompts = latents.Shape[0], w = latents.Shape[1];
        if (prompts != values.Count) throw new ArgumentException($"{prompts} prompts of latents for {values.Count} values.");
        var activeCount = new int[w];
        var byValue = new Dictionary<string, (int[] Both, int Count)>(StringComparer.Ordinal);
        for (int p = 0; p < prompts; p++)
        {
            if (!byValue.TryGetValue(values[p], out var entry)) entry = (new int[w], 0);
            var row = latents.Row(p);
            for (int j = 0; j < w; j++)
                if (row[j] != 0) { activeCount[j]++; entry.Both[j]++; }
            byValue[values[p]] = (entry.Both, entry.Count + 1);
        }
        var scores = byValue.ToDictionary(e => e.Key, e =>
        {
            var f1 = new double[w];
            for (int j = 0; j < w; j++)
            {
                double precision = e.Value.Both[j] / (double)activeCount[j], recall = e.Value.Both[j] / (double)e.Value.Count;
                f1[j] = 2 * precision * recall / (precision + recall);
            }
            return f1;
        }, StringComparer.Ordinal);
        return new F1Ranking(scores, w);
    }

    private static int[] Rank(double[] f1)
    {
        var order = Enumerable.Range(0, f1.Length).ToArray();
        double Key(int j) => double.IsNaN(f1[j]) ? double.NegativeInfinity : f1[j];
        return [.. order.OrderByDescending(Key).ThenBy(j => j)];
    }

    /// <summary>The best latent's F1 for a value seen in fitting; 0 when every F1 is undefined.</summary>
    public double Best(string value) => Scores[value].Where(double.IsFinite).DefaultIfEmpty(0).Max();

    /// <summary>The ranking for a value: latents from best to worst F1.</summary>
    public int[] Ranking(string value) => _rankings.TryGetValue(value, out var ranking) ? ranking : [.. Enumerable.Range(0, _latents)];

    /// <summary>
    /// The first <paramref name="n"/> latents of the value's ranking that are active in <paramref name="latents"/>
    /// (non-zero, or above 0 with <paramref name="activeIfPositive"/>).
    /// </summary>
    public int[] FirstActive(string value, ReadOnlySpan<float> latents, int n, bool activeIfPositive = false)
    {
        var chosen = new List<int>(n);
        foreach (int j in Ranking(value))
        {
            if (chosen.Count == n) break;
            if (activeIfPositive ? latents[j] > 0 : latents[j] != 0) chosen.Add(j);
        }
        return [.. chosen];
    }
}
