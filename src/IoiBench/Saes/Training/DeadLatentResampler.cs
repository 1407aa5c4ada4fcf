using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// The reference's dead-latent resampling (docs/method.md, "SAE training"), for vanilla and gated SAEs:
/// 1. a loss per training example — vanilla: its own ‖x̂ − x‖² + λ·Σ|f|; gated: the mean loss of its batch of 64;
/// 2. one example per dead latent, drawn with replacement with probability ∝ loss²;
/// 3. W_dec[j] = x/‖x‖; the encoder column j = W_dec[j]·0.2·c, where c is the mean over input rows of the norm of the
///    encoder row restricted to alive latents (the reference's axis, kept for fidelity);
/// 4. the latent's encoder bias — gated: b_gate, b_mag and r_mag — set to 0, and the Adam moments of every touched
///    entry zeroed (the step count stays).
/// </summary>
public static class DeadLatentResampler
{
    private const int GatedLossBatch = 64;

    public static void Resample(SparseAutoencoder sae, Adam optimizer, Tensor data, IReadOnlyList<int> deadLatents, DeterministicRandom rng)
    {
        if (deadLatents.Count == 0) return;
        var (encoderName, biasNames) = sae switch
        {
            VanillaSae => ("W_enc", new[] { "b_enc" }),
            GatedSae => ("W_gate", new[] { "b_gate", "b_mag", "r_mag" }),
            _ => throw new ArgumentException($"{sae.GetType().Name} has no dead-latent resampling (the reference resamples vanilla and gated SAEs only)."),
        };
        int n = data.Shape[0], dIn = sae.DIn, dSae = sae.DSae;
        var losses = ExampleLosses(sae, data);
        var cumulative = new double[n];
        double total = 0;
        for (int p = 0; p < n; p++) cumulative[p] = total += losses[p] * losses[p];

        var encoder = sae.Parameters[encoderName];
        var dead = deadLatents.ToHashSet();
        double c = Enumerable.Range(0, dIn).Average(i =>
        {
            var row = encoder.Row(i);
            double sum = 0;
            for (int j = 0; j < dSae; j++) if (!dead.Contains(j)) sum += (double)row[j] * row[j];
            return Math.Sqrt(sum);
        });

        var wDec = sae.Parameters["W_dec"];
        foreach (int j in deadLatents)
        {
            double target = rng.NextDouble() * total;
            int sample = Array.BinarySearch(cumulative, target);
            sample = Math.Min(sample < 0 ? ~sample : sample, n - 1);
            var row = wDec.Row(j);
            data.Row(sample).CopyTo(row);
            TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
            for (int i = 0; i < dIn; i++) encoder.Row(i)[j] = (float)(row[i] * 0.2 * c);
            foreach (string bias in biasNames) sae.Parameters[bias].Span[j] = 0;
        }

        optimizer.ResetMoments("W_dec", deadLatents.SelectMany(j => Enumerable.Range(j * dIn, dIn)));
        optimizer.ResetMoments(encoderName, deadLatents.SelectMany(j => Enumerable.Range(0, dIn).Select(i => i * dSae + j)));
        foreach (string bias in biasNames) optimizer.ResetMoments(bias, deadLatents);
    }

    /// <summary>The resampling loss of every example (see the class summary).</summary>
    internal static double[] ExampleLosses(SparseAutoencoder sae, Tensor data)
    {
        int n = data.Shape[0];
        var losses = new double[n];
        if (sae is GatedSae)
        {
            for (int start = 0; start < n; start += GatedLossBatch)
            {
                int size = Math.Min(GatedLossBatch, n - start);
                double loss = sae.Loss(data.Slice(start, size), null).Total;
                for (int p = start; p < start + size; p++) losses[p] = loss;
            }
            return losses;
        }
        var vanilla = (VanillaSae)sae;
        var latents = sae.Encode(data);
        var reconstruction = sae.Decode(latents);
        for (int p = 0; p < n; p++)
        {
            var x = data.Row(p);
            var y = reconstruction.Row(p);
            double squared = 0;
            for (int i = 0; i < x.Length; i++) squared += (double)(y[i] - x[i]) * (y[i] - x[i]);
            losses[p] = squared + vanilla.L1Coefficient * TensorPrimitives.Sum(latents.Row(p));
        }
        return losses;
    }
}
