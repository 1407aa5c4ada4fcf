namespace IoiBench.Metrics;

/// <summary>
/// Kendall's rank correlation τ-b of two paired samples: (concordant − discordant pairs) over
/// √((n₀ − t_x)(n₀ − t_y)), where n₀ = n(n − 1)/2 and t_x, t_y count the pairs tied in x and in y. 1: the same
/// order; −1: the reverse; NaN when either sample is constant (or has fewer than two values).
/// </summary>
public static class KendallTau
{
    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"{x.Count} values against {y.Count}.");
        long concordant = 0, discordant = 0, tiedX = 0, tiedY = 0, pairs = 0;
        for (int i = 0; i < x.Count; i++)
            for (int j = i + 1; j < x.Count; j++)
            {
                pairs++;
                int dx = Math.Sign(x[i] - x[j]), dy = Math.Sign(y[i] - y[j]);
                if (dx == 0) tiedX++;
                if (dy == 0) tiedY++;
                if (dx * dy > 0) concordant++;
                else if (dx * dy < 0) discordant++;
            }
        double denominator = Math.Sqrt((double)(pairs - tiedX) * (pairs - tiedY));
        return denominator == 0 ? double.NaN : (concordant - discordant) / denominator;
    }
}
