using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// The top-k SAE's GPU step (topk.cu). It works from the k latents each row keeps: its decoder and its latents'
/// gradient read only their decoder rows (topk_decode, topk_latent_gradients) instead of dense products over all d_sae.
/// Up to 1,024 latents the selection holds a row in registers; wider SAEs use the scanning kernel. With aux_k, the AuxK
/// term (<see cref="AuxKGpuTerm"/>) runs the same selection over the latents dead in the last epoch.
/// </summary>
internal sealed class TopKStep : BatchedStep
{
    private readonly bool _relu, _encoderBias, _normaliseDecoder;
    private readonly int _kMax;
    private readonly DeviceArray<int> _ks, _selected;
    private readonly AuxKGpuTerm? _aux;

    public TopKStep(BatchedSaeTrainer trainer) : base(trainer)
    {
        _relu = Shared(trainer, sae => ((TopKSae)sae).Relu);
        _encoderBias = Shared(trainer, sae => ((TopKSae)sae).EncoderBias);
        _normaliseDecoder = Shared(trainer, sae => ((TopKSae)sae).NormaliseDecoder);
        _aux = AuxKGpuTerm.For(trainer, Shared(trainer, sae => ((TopKSae)sae).AuxK), Shared(trainer, sae => ((TopKSae)sae).AuxKCoefficient), _relu);
        int[] ks = [.. trainer.Runs.Select(r => ((TopKSae)r.Sae).K)];
        _kMax = ks.Max();
        _ks = trainer.Allocate<int>(trainer.Saes);
        _ks.Upload(ks);
        _selected = trainer.Allocate<int>((long)trainer.Saes * trainer.BatchSize * _kMax);
    }

    public override string[] Defines => [AuxKGpuTerm.LatentSlots(Trainer.DSae)];
    public override bool NormalisesDecoder => _normaliseDecoder;

    /// <summary>Top-k has no sparsity term; its total loss is the reconstruction's and AuxK's.</summary>
    public override (double Loss, double Sparsity) Totals(double reconstruction, double sparsity, double auxiliary, float lambda) =>
        (reconstruction + auxiliary, 0);

    public override void StartEpoch() => _aux?.StartEpoch(sae => ((TopKSae)sae).DeadLatents);

    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        long latents = (long)rows * t.DSae;
        ulong pre = t.Buffer("pre", latents), z = t.Buffer("latents", latents), dZ = t.Buffer("dLatents", latents),
            residual = t.Buffer("residual", (long)rows * t.DIn), bias = _encoderBias ? t.Parameter("b_enc") : 0UL;
        t.Product(centred, false, t.Parameter("W_enc"), false, pre, rows, t.DSae, t.DIn);
        t.LaunchPerRow(AuxKGpuTerm.SelectionKernel(t.DSae), rows, pre, bias, 0UL, z, _ks.Pointer, _selected.Pointer, _kMax, t.Stats, t.Fired,
            _relu ? 1 : 0, rows, t.DSae, t.Saes);
        float scale = 2f / rows;
        t.LaunchPerRow("topk_decode", rows, z, _selected.Pointer, _ks.Pointer, _kMax, t.Parameter("W_dec"), t.Parameter("b_dec"), x, residual,
            t.Stats, BatchedSaeTrainer.ReconstructionSlot, scale, rows, t.DIn, t.DSae, t.Saes);
        t.Product(z, true, residual, false, t.Gradient("W_dec"), t.DSae, t.DIn, rows);
        t.ColumnSums(residual, t.Gradient("b_dec"), rows, t.DIn);
        t.LaunchPerRow("topk_latent_gradients", rows, residual, t.Parameter("W_dec"), z, _selected.Pointer, _ks.Pointer, _kMax, dZ, 0,
            rows, t.DIn, t.DSae, t.Saes);
        if (_aux is { Active: true }) _aux.Run(pre, bias, residual, scale, dZ, rows);
        // Without an encoder bias the column sums still give the encoder's share of ∂/∂b_dec.
        ulong sums = _encoderBias ? t.Gradient("b_enc") : t.Buffer("dZSums", t.DSae);
        t.ColumnSums(dZ, sums, rows, t.DSae);
        t.EncoderBackward(centred, dZ, sums, t.Parameter("W_enc"), t.Gradient("W_enc"), rows);
    }
}
