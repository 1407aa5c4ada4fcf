namespace IoiBench.Saes;

/// <summary>
/// How the learning rate moves over a run (docs/method.md, "SAE training"). <see cref="Linear"/>: constant, then a
/// linear decay to 0 over the last quarter of the epochs, and after an epoch that resampled dead latents a warm-up from
/// 0.1× back to 1× over <see cref="TrainingOptions.WarmupEpochs"/>. <see cref="Reference"/>: the reference code's
/// scheduler, stepped once per epoch: its "linear" decay multiplies the current rate by 1 − progress at every step,
/// so it compounds (about 0.08× 50 epochs into the decay); a resample cuts the rate to 0.1× and ramps it back towards
/// the rate before, stopping one step short (at 0.991× for 100 warm-up epochs).
/// </summary>
public enum LearningRateSchedule { Linear, Reference }

/// <summary>
/// Settings of one SAE training run. <see cref="ResampleAfterEpochs"/> are 0-based epochs after which dead latents are
/// resampled (vanilla and gated only; the reference: 501 and 1001); an epoch that did resample latents is followed by
/// <see cref="WarmupEpochs"/> of learning-rate warm-up. <see cref="Checkpoints"/> are end epochs (1-based counts) at
/// which the SAE is saved.
/// </summary>
public sealed record TrainingOptions(int BatchSize = 512, int Epochs = 100, float LearningRate = 3e-4f, ulong Seed = 0)
{
    public IReadOnlyList<int> ResampleAfterEpochs { get; init; } = [];
    public int WarmupEpochs { get; init; }
    public IReadOnlyList<int> Checkpoints { get; init; } = [];
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Linear;

    /// <summary>
    /// Start b_dec at the training data's mean instead of 0 (the reference's init). Site activations can sit far from
    /// the origin compared with their spread; from b_dec = 0 a short run spends its epochs walking there.
    /// </summary>
    public bool DecoderBiasFromMean { get; init; }

    /// <summary>The first epoch of the final decay (0-based): the last quarter of the run.</summary>
    private int DecayStart => Epochs - Epochs / 4;

    /// <summary>
    /// The learning rate of 0-based <paramref name="epoch"/>, given the earlier epochs after which dead latents were
    /// actually resampled (<paramref name="resampledAfter"/>: an epoch on the schedule that found no dead latent, and
    /// every epoch of a variant that never resamples, brings no warm-up).
    /// </summary>
    public float LearningRateAt(int epoch, IReadOnlyCollection<int> resampledAfter) =>
        Schedule == LearningRateSchedule.Reference ? ReferenceRateAt(epoch, resampledAfter) : LinearRateAt(epoch, resampledAfter);

    private float LinearRateAt(int epoch, IReadOnlyCollection<int> resampledAfter)
    {
        float rate = epoch < DecayStart ? LearningRate : LearningRate * (Epochs - epoch) / (Epochs - DecayStart);
        int lastResample = resampledAfter.Where(r => r < epoch).DefaultIfEmpty(-1).Max();
        if (lastResample >= 0 && WarmupEpochs > 0)
        {
            int sinceResample = epoch - lastResample - 1;
            if (sinceResample < WarmupEpochs) rate *= 0.1f + 0.9f * sinceResample / WarmupEpochs;
        }
        return rate;
    }

    /// <summary>
    /// The reference scheduler, replayed step by step: its step counter starts at 1 (the scheduler steps once when it is
    /// made) and steps after every epoch; the rate of an epoch is the one the steps before it left.
    /// </summary>
    private float ReferenceRateAt(int epoch, IReadOnlyCollection<int> resampledAfter)
    {
        double rate = LearningRate, warmupBase = 0;
        int step = 1, decayEnd = Epochs;
        int? warmupStart = null;
        for (int e = 0; e < epoch; e++)
        {
            step++;
            if (warmupStart is { } start && step - start >= WarmupEpochs) warmupStart = null;
            if (step >= DecayStart) rate *= 1 - (step - DecayStart) / (double)(decayEnd - DecayStart);
            else if (warmupStart is { } since) rate = warmupBase * (0.1 + 0.9 * (step - since) / WarmupEpochs);
            if (resampledAfter.Contains(e) && WarmupEpochs > 0)
            {
                warmupStart = step;
                warmupBase = rate;
                rate *= 0.1;
            }
        }
        return (float)rate;
    }
}
