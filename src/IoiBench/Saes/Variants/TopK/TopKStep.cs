using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// The top-k SAE's GPU step (topk.cu). It works from the k latents each row keeps: its decoder and its latents'
/// gradient read only their decoder rows (topk_decode, topk_latent_gradients) instead of dense products over all d_sae.
/// Up to 1,024 latents the selection holds a row in registers; wider SAEs use the scanning kernel. With aux_k, the AuxK
/// term runs the same selection over the latents dead in the last epoch (uploaded at each epoch's start).
/// </summary>
internal sealed class TopKStep : BatchedStep
{
    private const int RegisterWidth = 1024;

    private readonly bool _relu, _encoderBias, _normaliseDecoder;
    private readonly int _kMax, _auxK;
    private readonly float _auxKCoefficient;
    private readonly DeviceArray<int> _ks, _selected;
    private readonly DeviceArray<int>? _dead, _auxKs, _auxSelected;
    private readonly DeviceArray<float>? _auxWeights;
    private bool _auxActive;

    public TopKStep(BatchedSaeTrainer trainer) : base(trainer)
    {
        _relu = Shared(trainer, sae => ((TopKSae)sae).Relu);
        _encoderBias = Shared(trainer, sae => ((TopKSae)sae).EncoderBias);
        _normaliseDecoder = Shared(trainer, sae => ((TopKSae)sae).NormaliseDecoder);
        _auxK = Shared(trainer, sae => ((TopKSae)sae).AuxK);
        _auxKCoefficient = Shared(trainer, sae => ((TopKSae)sae).AuxKCoefficient);
        int[] ks = [.. trainer.Runs.Select(r => ((TopKSae)r.Sae).K)];
        _kMax = ks.Max();
        _ks = trainer.Allocate<int>(trainer.Saes);
        _ks.Upload(ks);
        _selected = trainer.Allocate<int>((long)trainer.Saes * trainer.BatchSize * _kMax);
        if (_auxK > 0)
        {
            _dead = trainer.Allocate<int>((long)trainer.Saes * trainer.DSae);
            _auxKs = trainer.Allocate<int>(trainer.Saes);
            _auxWeights = trainer.Allocate<float>(trainer.Saes);
            _auxSelected = trainer.Allocate<int>((long)trainer.Saes * trainer.BatchSize * _auxK);
        }
    }

    private bool Wide => Trainer.DSae > RegisterWidth;

    public override string[] Defines => [$"LATENT_SLOTS={Math.Min((Trainer.DSae + 31) / 32, RegisterWidth / 32)}"];
    public override bool NormalisesDecoder => _normaliseDecoder;

    /// <summary>Top-k has no sparsity term; its total loss is the reconstruction's and AuxK's.</summary>
    public override (double Loss, double Sparsity) Totals(double reconstruction, double sparsity, double auxiliary, float lambda) =>
        (reconstruction + auxiliary, 0);

    /// <summary>
    /// Uploads each SAE's dead latents (from its last epoch), how many of them AuxK keeps (min(aux_k, dead)) and the
    /// term's weight, aux_k_coefficient·min(dead / aux_k, 1), as the CPU SAE computes them.
    /// </summary>
    public override void StartEpoch()
    {
        if (_auxK == 0) return;
        var runs = Trainer.Runs;
        var dead = new int[runs.Count * Trainer.DSae];
        var counts = new int[runs.Count];
        var weights = new float[runs.Count];
        for (int g = 0; g < runs.Count; g++)
        {
            if (((TopKSae)runs[g].Sae).DeadLatents is not { } mask) continue;
            for (int j = 0; j < mask.Length; j++) dead[g * Trainer.DSae + j] = mask[j] ? 1 : 0;
            int deadCount = mask.Count(d => d);
            counts[g] = Math.Min(_auxK, deadCount);
            weights[g] = deadCount == 0 ? 0 : _auxKCoefficient * Math.Min(deadCount / (float)_auxK, 1f);
        }
        _dead!.Upload(dead);
        _auxKs!.Upload(counts);
        _auxWeights!.Upload(weights);
        _auxActive = counts.Any(c => c > 0);
    }

    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        long latents = (long)rows * t.DSae;
        ulong pre = t.Buffer("pre", latents), z = t.Buffer("latents", latents), dZ = t.Buffer("dLatents", latents),
            residual = t.Buffer("residual", (long)rows * t.DIn), bias = _encoderBias ? t.Parameter("b_enc") : 0UL;
        string activate = Wide ? "topk_activate_wide" : "topk_activate";
        t.Product(centred, false, t.Parameter("W_enc"), false, pre, rows, t.DSae, t.DIn);
        t.LaunchPerRow(activate, rows, pre, bias, 0UL, z, _ks.Pointer, _selected.Pointer, _kMax, t.Stats, t.Fired, _relu ? 1 : 0, rows, t.DSae, t.Saes);
        float scale = 2f / rows;
        t.LaunchPerRow("topk_decode", rows, z, _selected.Pointer, _ks.Pointer, _kMax, t.Parameter("W_dec"), t.Parameter("b_dec"), x, residual,
            t.Stats, BatchedSaeTrainer.ReconstructionSlot, scale, rows, t.DIn, t.DSae, t.Saes);
        t.Product(z, true, residual, false, t.Gradient("W_dec"), t.DSae, t.DIn, rows);
        t.ColumnSums(residual, t.Gradient("b_dec"), rows, t.DIn);
        t.LaunchPerRow("topk_latent_gradients", rows, residual, t.Parameter("W_dec"), z, _selected.Pointer, _ks.Pointer, _kMax, dZ, 0,
            rows, t.DIn, t.DSae, t.Saes);
        if (_auxActive) AuxK(pre, bias, residual, scale, dZ, rows, activate);
        // Without an encoder bias the column sums still give the encoder's share of ∂/∂b_dec.
        ulong sums = _encoderBias ? t.Gradient("b_enc") : t.Buffer("dZSums", t.DSae);
        t.ColumnSums(dZ, sums, rows, t.DSae);
        t.EncoderBackward(centred, dZ, sums, t.Parameter("W_enc"), t.Gradient("W_enc"), rows);
    }

    /// <summary>
    /// The AuxK term: the dead latents' top values reconstruct the residual e = x − x̂ (held fixed); its weighted squared
    /// error goes to the auxiliary slot, and its gradient into ∂/∂W_dec and, through the kept dead latents, into dZ.
    /// </summary>
    private void AuxK(ulong pre, ulong bias, ulong residual, float scale, ulong dZ, int rows, string activate)
    {
        var t = Trainer;
        ulong zAux = t.Buffer("auxLatents", (long)rows * t.DSae), difference = t.Buffer("auxDifference", (long)rows * t.DIn);
        t.LaunchPerRow(activate, rows, pre, bias, _dead!.Pointer, zAux, _auxKs!.Pointer, _auxSelected!.Pointer, _auxK, 0UL, 0UL,
            _relu ? 1 : 0, rows, t.DSae, t.Saes);
        t.LaunchPerRow("topk_auxk_difference", rows, zAux, _auxSelected.Pointer, _auxKs.Pointer, _auxK, t.Parameter("W_dec"), residual, scale,
            _auxWeights!.Pointer, difference, t.Stats, rows, t.DIn, t.DSae, t.Saes);
        t.Product(zAux, true, difference, false, t.Gradient("W_dec"), t.DSae, t.DIn, rows, beta: 1f);
        t.LaunchPerRow("topk_latent_gradients", rows, difference, t.Parameter("W_dec"), zAux, _auxSelected.Pointer, _auxKs.Pointer, _auxK, dZ, 1,
            rows, t.DIn, t.DSae, t.Saes);
    }
}
