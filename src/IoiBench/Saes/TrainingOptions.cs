namespace IoiBench.Saes;

/// <summary>
/// Settings of one SAE training run. <see cref="ResampleAfterEpochs"/> are 0-based epochs after which dead latents are
/// resampled (vanilla and gated only; the reference: 501 and 1001), each followed by <see cref="WarmupEpochs"/> of
/// learning-rate warm-up. <see cref="Checkpoints"/> are end epochs (1-based counts) at which the SAE is saved.
/// </summary>
public sealed record TrainingOptions(int BatchSize = 512, int Epochs = 100, float LearningRate = 3e-4f, ulong Seed = 0)
{
    public IReadOnlyList<int> ResampleAfterEpochs { get; init; } = [];
    public int WarmupEpochs { get; init; }
    public IReadOnlyList<int> Checkpoints { get; init; } = [];

    /// <summary>
    /// Start b_dec at the training data's mean instead of 0 (the reference's init). Site activations can sit far from
    /// the origin compared with their spread; from b_dec = 0 a short run spends its epochs walking there.
    /// </summary>
    public bool DecoderBiasFromMean { get; init; }

    /// <summary>
    /// The learning rate of 0-based <paramref name="epoch"/>: constant, linear decay to 0 over the last quarter of the
    /// epochs (the reference's intended schedule, not its compounding one), times the warm-up factor after the latest
    /// resample, which starts at 0.1 (the reference cuts the rate to a tenth) and rises linearly to 1.
    /// </summary>
    public float LearningRateAt(int epoch)
    {
        int decayStart = Epochs - Epochs / 4;
        float rate = epoch < decayStart ? LearningRate : LearningRate * (Epochs - epoch) / (Epochs - decayStart);
        int lastResample = ResampleAfterEpochs.Where(r => r < epoch).DefaultIfEmpty(-1).Max();
        if (lastResample >= 0 && WarmupEpochs > 0)
        {
            int sinceResample = epoch - lastResample - 1;
            if (sinceResample < WarmupEpochs) rate *= 0.1f + 0.9f * sinceResample / WarmupEpochs;
        }
        return rate;
    }
}
