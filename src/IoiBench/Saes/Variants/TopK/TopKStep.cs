using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// The top-k SAE's GPU step (topk.cu). It works from the k latents each row keeps: its decoder and its latents'
/// gradient read only their decoder rows (topk_decode, topk_latent_gradients) instead of dense products over all d_sae.
/// </summary>
internal sealed class TopKStep : BatchedStep
{
    private readonly bool _relu, _encoderBias, _normaliseDecoder;
    private readonly int _kMax;
    private readonly DeviceArray<int> _ks, _selected;

    public TopKStep(BatchedSaeTrainer trainer) : base(trainer)
    {
        _relu = Shared(trainer, sae => ((TopKSae)sae).Relu);
        _encoderBias = Shared(trainer, sae => ((TopKSae)sae).EncoderBias);
        _normaliseDecoder = Shared(trainer, sae => ((TopKSae)sae).NormaliseDecoder);
        if (Shared(trainer, sae => ((TopKSae)sae).AuxK) > 0)
            throw new InvalidInputException("--device cuda: top-k SAEs with aux_k > 0 train on the CPU only; use --device cpu.");
        if (trainer.DSae > 1024)
            throw new InvalidInputException($"--device cuda: top-k SAEs of width {trainer.DSae} train on the CPU only (the GPU's top-k takes widths up to 1024).");
        int[] ks = [.. trainer.Runs.Select(r => ((TopKSae)r.Sae).K)];
        _kMax = ks.Max();
        _ks = trainer.Allocate<int>(trainer.Saes);
        _ks.Upload(ks);
        _selected = trainer.Allocate<int>((long)trainer.Saes * trainer.BatchSize * _kMax);
    }

    public override string[] Defines => [$"LATENT_SLOTS={(Trainer.DSae + 31) / 32}"];
    public override bool NormalisesDecoder => _normaliseDecoder;

    /// <summary>Top-k has no sparsity term; its total loss is the reconstruction's.</summary>
    public override (double Loss, double Sparsity) Totals(double reconstruction, double sparsity, double auxiliary, float lambda) =>
        (reconstruction + auxiliary, 0);

    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        ulong pre = t.Buffer("pre", (long)rows * t.DSae), z = t.Buffer("latents", (long)rows * t.DSae), dZ = t.Buffer("dLatents", (long)rows * t.DSae),
            residual = t.Buffer("residual", (long)rows * t.DIn), selected = _selected.Pointer;
        t.Product(centred, false, t.Parameter("W_enc"), false, pre, rows, t.DSae, t.DIn);
        t.LaunchPerRow("topk_activate", rows, pre, _encoderBias ? t.Parameter("b_enc") : 0UL, z, _ks.Pointer, selected, _kMax,
            t.Stats, t.Fired, _relu ? 1 : 0, rows, t.DSae, t.Saes);
        t.LaunchPerRow("topk_decode", rows, z, selected, _ks.Pointer, _kMax, t.Parameter("W_dec"), t.Parameter("b_dec"), x, residual,
            t.Stats, BatchedSaeTrainer.ReconstructionSlot, 2f / rows, rows, t.DIn, t.DSae, t.Saes);
        t.Product(z, true, residual, false, t.Gradient("W_dec"), t.DSae, t.DIn, rows);
        t.ColumnSums(residual, t.Gradient("b_dec"), rows, t.DIn);
        t.LaunchPerRow("topk_latent_gradients", rows, residual, t.Parameter("W_dec"), z, selected, _ks.Pointer, _kMax, dZ, rows, t.DIn, t.DSae, t.Saes);
        // Without an encoder bias the column sums still give the encoder's share of ∂/∂b_dec.
        ulong sums = _encoderBias ? t.Gradient("b_enc") : t.Buffer("dZSums", t.DSae);
        t.ColumnSums(dZ, sums, rows, t.DSae);
        t.EncoderBackward(centred, dZ, sums, t.Parameter("W_enc"), t.Gradient("W_enc"), rows);
    }
}
