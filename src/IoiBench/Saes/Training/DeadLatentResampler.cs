using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// The reference's dead-latent resampling (docs/method.md, "SAE training"), for variants with a
/// <see cref="ResamplingRule"/> (vanilla and gated):
/// 1. a loss per training example, by the variant's rule (vanilla: its own ‖x̂ − x‖² + λ·Σ|f|; gated: the mean loss of
///    its batch of 64);
/// 2. one example per dead latent, drawn with replacement with probability ∝ loss²;
/// 3. W_dec[j] = x/‖x‖; the encoder column j = W_dec[j]·0.2·c, where c is the mean over input rows of the norm of the
///    encoder row restricted to alive latents (the reference's axis, kept for fidelity);
/// 4. the rule's per-latent tensors (vanilla: b_enc; gated: b_gate, b_mag and r_mag) set to 0 at the latent, and the
///    Adam moments of every touched entry zeroed (the step count stays).
/// </summary>
public static class DeadLatentResampler
{
    public static void Resample(SparseAutoencoder sae, Adam optimizer, Tensor data, IReadOnlyList<int> deadLatents, DeterministicRandom rng)
    {
        if (deadLatents.Count == 0) return;
        var rule = sae.Variant.Resampling
                   ?? throw new ArgumentException($"{sae.Variant} SAEs are never resampled (the variant has no resampling rule).");
        int n = data.Shape[0], dIn = sae.DIn, dSae = sae.DSae;
        var losses = rule.ExampleLosses(sae, data);
        var cumulative = new double[n];
        double total = 0;
        for (int p = 0; p < n; p++) cumulative[p] = total += losses[p] * losses[p];

        var encoder = sae.Parameters[rule.Encoder];
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
            foreach (string reset in rule.ResetTensors) sae.Parameters[reset].Span[j] = 0;
        }

        optimizer.ResetMoments("W_dec", deadLatents.SelectMany(j => Enumerable.Range(j * dIn, dIn)));
        optimizer.ResetMoments(rule.Encoder, deadLatents.SelectMany(j => Enumerable.Range(0, dIn).Select(i => i * dSae + j)));
        foreach (string reset in rule.ResetTensors) optimizer.ResetMoments(reset, deadLatents);
    }
}
