using IoiBench.Numerics;

namespace IoiBench.Dictionaries;

/// <summary>
/// How well reconstructions x̂ match activations x over a prompt set:
/// explained variance 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² (x̄ the set's own mean), MSE = Σ‖x − x̂‖² / (n·d), and the mean cosine
/// similarity of x and x̂ (prompts where either is zero count as 0).
/// </summary>
public sealed record ReconstructionQuality(double ExplainedVariance, double Mse, double Cosine)
{
    public static ReconstructionQuality Measure(Tensor activations, Tensor reconstructions)
    {
        if (!activations.Shape.SequenceEqual(reconstructions.Shape) || activations.Rank != 2)
            throw new ArgumentException($"Shapes differ: {activations} vs {reconstructions}.");
        int n = activations.Shape[0], d = activations.Shape[1];
        var mean = new double[d];
        for (int p = 0; p < n; p++)
            for (int c = 0; c < d; c++) mean[c] += activations.Row(p)[c] / (double)n;

        double residual = 0, total = 0, cosine = 0;
        for (int p = 0; p < n; p++)
        {
            var x = activations.Row(p);
            var y = reconstructions.Row(p);
            double dot = 0, xx = 0, yy = 0;
            for (int c = 0; c < d; c++)
            {
                double e = x[c] - y[c], centred = x[c] - mean[c];
                residual += e * e;
                total += centred * centred;
                dot += (double)x[c] * y[c]; xx += (double)x[c] * x[c]; yy += (double)y[c] * y[c];
            }
            cosine += xx > 0 && yy > 0 ? dot / Math.Sqrt(xx * yy) : 0;
        }
        return new ReconstructionQuality(1 - residual / total, residual / ((double)n * d), cosine / n);
    }
}
