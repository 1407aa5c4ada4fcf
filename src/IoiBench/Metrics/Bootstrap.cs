using IoiBench.Numerics;

namespace IoiBench.Metrics;

/// <summary>A mean over prompts with its 95% bootstrap interval (percentile method).</summary>
public sealed record Estimate(double Mean, double Lower, double Upper, int Count)
{
    public override string ToString() => $"{Mean:F3} [{Lower:F3}, {Upper:F3}]";
}

/// <summary>
/// Bootstrap intervals over prompts: resample the prompts with replacement, take each resample's mean, report the 2.5th
/// and 97.5th percentiles. NaN values (e.g. a weight with nothing reconstructed) are left out, as a nanmean does.
/// </summary>
public static class Bootstrap
{
    public const int DefaultResamples = 1000;

    public static Estimate Mean(IReadOnlyList<double> values, int resamples = DefaultResamples, ulong seed = 0)
    {
        var kept = values.Where(v => !double.IsNaN(v)).ToArray();
        if (kept.Length == 0) return new Estimate(double.NaN, double.NaN, double.NaN, 0);
        var rng = new DeterministicRandom(seed, stream: 0xB007);
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < kept.Length; i++) sum += kept[rng.Next(kept.Length)];
            means[r] = sum / kept.Length;
        }
        Array.Sort(means);
        return new Estimate(kept.Average(), Percentile(means, 0.025), Percentile(means, 0.975), kept.Length);
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    internal static double Percentile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
