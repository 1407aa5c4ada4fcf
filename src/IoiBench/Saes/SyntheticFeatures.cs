using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Data with known features (Sharkey et al.'s toy setting): <c>features</c> random unit directions in d dimensions;
/// each sample activates feature i with probability p_i (p decays geometrically across features, scaled so that
/// <c>meanActive</c> are active on average) with a uniform(0, 1) coefficient. Samples are scaled to mean norm √d, as
/// IoiBench scales site activations.
/// </summary>
public sealed class SyntheticFeatures
{
    public Tensor Features { get; }   // [features, d], unit rows
    public Tensor Samples { get; }    // [samples, d]

    public SyntheticFeatures(int dimension, int features, int samples, double meanActive, ulong seed)
    {
        var rng = new DeterministicRandom(seed, stream: 0xFEA7);
        Features = new Tensor(features, dimension);
        for (int f = 0; f < features; f++)
        {
            var row = Features.Row(f);
            for (int i = 0; i < dimension; i++) row[i] = (float)rng.NextGaussian();
            System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Norm(row), row);
        }

        var decay = Enumerable.Range(0, features).Select(i => Math.Exp(-2.0 * i / features)).ToArray();
        double scale = meanActive / decay.Sum();
        var probability = decay.Select(p => Math.Min(1, p * scale)).ToArray();

        Samples = new Tensor(samples, dimension);
        double totalNorm = 0;
        for (int s = 0; s < samples; s++)
        {
            var x = Samples.Row(s);
            for (int f = 0; f < features; f++)
                if (rng.NextDouble() < probability[f])
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(Features.Row(f), (float)rng.NextDouble(), x, x);
            totalNorm += System.Numerics.Tensors.TensorPrimitives.Norm(x);
        }
        float toRootD = (float)(Math.Sqrt(dimension) / (totalNorm / samples));
        System.Numerics.Tensors.TensorPrimitives.Multiply(Samples.Span, toRootD, Samples.Span);
    }

    /// <summary>
    /// Mean over the true features of the best cosine similarity with any decoder row (1 = every feature recovered).
    /// </summary>
    public static double MeanMaxCosine(Tensor trueFeatures, Tensor decoder)
    {
        double total = 0;
        for (int f = 0; f < trueFeatures.Shape[0]; f++)
        {
            var feature = trueFeatures.Row(f);
            double best = double.NegativeInfinity;
            for (int j = 0; j < decoder.Shape[0]; j++)
                best = Math.Max(best, System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(feature, decoder.Row(j)));
            total += best;
        }
        return total / trueFeatures.Shape[0];
    }
}
