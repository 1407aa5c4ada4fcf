using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// The GPU step of BatchTopK and Matryoshka SAEs (batchtopk.cu): the batch-wide selection (a radix select per SAE),
/// the levels' reconstructions as products on blocks of the latents and of W_dec, their backward passes through the
/// suffix sums of the levels' residuals (as <see cref="BatchTopKSae"/>), and AuxK (<see cref="AuxKGpuTerm"/>).
/// </summary>
internal sealed class BatchTopKStep : BatchedStep
{
    private readonly IReadOnlyList<int> _levels;
    private readonly DeviceArray<int> _ks;
    private readonly BatchSelectionGpu _selection;
    private readonly AuxKGpuTerm? _aux;

    public BatchTopKStep(BatchedSaeTrainer trainer) : base(trainer)
    {
        _levels = Shared(trainer, sae => string.Join(",", ((BatchTopKSae)sae).Levels)).Split(',').Select(int.Parse).ToList();
        _aux = AuxKGpuTerm.For(trainer, Shared(trainer, sae => ((BatchTopKSae)sae).AuxK), Shared(trainer, sae => ((BatchTopKSae)sae).AuxKCoefficient),
            relu: true);
        _ks = trainer.Allocate<int>(trainer.Saes);
        _ks.Upload([.. trainer.Runs.Select(r => ((BatchTopKSae)r.Sae).K)]);
        _selection = new BatchSelectionGpu(trainer.Saes, trainer.BatchSize, trainer.DSae, trainer.Allocate<int>, trainer.Allocate<uint>,
            trainer.Allocate<long>);
    }

    public override string[] Defines => [AuxKGpuTerm.LatentSlots(Trainer.DSae)];

    /// <summary>No sparsity term: the loss is every level's reconstruction (inner ones in the auxiliary slot) and AuxK's.</summary>
    public override (double Loss, double Sparsity) Totals(double reconstruction, double sparsity, double auxiliary, float lambda) =>
        (reconstruction + auxiliary, 0);

    public override void StartEpoch() => _aux?.StartEpoch(sae => ((BatchTopKSae)sae).DeadLatents);

    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        long latents = (long)rows * t.DSae;
        ulong pre = t.Buffer("pre", latents), f = t.Buffer("latents", latents), dF = t.Buffer("dLatents", latents);
        t.Product(centred, false, t.Parameter("W_enc"), false, pre, rows, t.DSae, t.DIn);
        t.Kernels.LaunchElementwise("batchtopk_values", t.Saes * latents, pre, t.Parameter("b_enc"), f, rows, t.DSae, t.Saes * latents);
        _selection.Select(t.Kernels, f, _ks.Pointer, rows, t.Stats, t.Fired);

        var residuals = LevelResiduals(f, x, rows);
        LevelsBackward(f, residuals, dF, rows);
        // Gradients pass where the selection kept a (positive) value; AuxK's come after that mask, and then the sums.
        bool aux = _aux is { Active: true };
        ulong sums = t.Gradient("b_enc");
        t.Kernels.Launch("relu_backward", t.ColumnTiles, 256, dF, f, t.Lambdas, 1f / rows, aux ? t.Buffer("maskSums", t.DSae) : sums, rows, t.DSae);
        if (aux)
        {
            _aux!.Run(pre, t.Parameter("b_enc"), residuals[^1], 2f / rows, dF, rows);
            t.ColumnSums(dF, sums, rows, t.DSae);
        }
        t.EncoderBackward(centred, dF, sums, t.Parameter("W_enc"), t.Gradient("W_enc"), rows);
    }

    /// <summary>Each level's residual (x̂_w − x)·2/rows, its squared norm into the stats; the reconstruction built up level by level.</summary>
    private ulong[] LevelResiduals(ulong f, ulong x, int rows)
    {
        var t = Trainer;
        ulong running = t.Buffer("running", (long)rows * t.DIn);
        var residuals = new ulong[_levels.Count];
        for (int l = 0, start = 0; l < _levels.Count; start = _levels[l++])
        {
            t.ProductOfBlocks(LatentBlock(f, start, rows), false, DecoderBlock(t.Parameter("W_dec"), start), false, Packed(running, rows), rows, t.DIn,
                _levels[l] - start, beta: l == 0 ? 0f : 1f);
            residuals[l] = t.Buffer($"residual{l}", (long)rows * t.DIn);
            int slot = l == _levels.Count - 1 ? BatchedSaeTrainer.ReconstructionSlot : BatchedSaeTrainer.AuxiliarySlot;
            // Each level's squared error is added: the full level's to the reconstruction slot, the inner ones' to the auxiliary.
            t.LaunchPerRow("residual", rows, running, t.Parameter("b_dec"), x, residuals[l], t.Stats, slot, 2f / rows, rows, t.DIn, t.Saes, 1);
        }
        return residuals;
    }

    /// <summary>
    /// The levels backward (as the CPU's): the residuals become their suffix sums R_l, then each latent block gets
    /// ∂/∂f = R_l·W_dec,lᵀ and ∂/∂W_dec,l = f_lᵀ·R_l, and ∂/∂b_dec = Σ_rows R_1.
    /// </summary>
    private void LevelsBackward(ulong f, ulong[] residuals, ulong dF, int rows)
    {
        var t = Trainer;
        long size = (long)t.Saes * rows * t.DIn;
        for (int l = residuals.Length - 2; l >= 0; l--) t.Kernels.LaunchElementwise("add_into", size, residuals[l], residuals[l + 1], size);
        for (int l = 0, start = 0; l < _levels.Count; start = _levels[l++])
        {
            int width = _levels[l] - start;
            t.ProductOfBlocks(LatentBlock(f, start, rows), true, Packed(residuals[l], rows), false, DecoderBlock(t.Gradient("W_dec"), start),
                width, t.DIn, rows);
            t.ProductOfBlocks(Packed(residuals[l], rows), false, DecoderBlock(t.Parameter("W_dec"), start), true, LatentBlock(dF, start, rows),
                rows, width, t.DIn);
        }
        t.ColumnSums(residuals[0], t.Gradient("b_dec"), rows, t.DIn);
    }

    /// <summary>Columns start… of a [rows, d_sae] latent buffer.</summary>
    private BatchedSaeTrainer.Block LatentBlock(ulong latents, int start, int rows) =>
        new(latents + (ulong)start * sizeof(float), (long)rows * Trainer.DSae, Trainer.DSae);

    /// <summary>Rows start… of W_dec [d_sae, d_in] (or its gradient).</summary>
    private BatchedSaeTrainer.Block DecoderBlock(ulong decoder, int start) =>
        new(decoder + (ulong)start * (ulong)Trainer.DIn * sizeof(float), (long)Trainer.DSae * Trainer.DIn, Trainer.DIn);

    private BatchedSaeTrainer.Block Packed(ulong buffer, int rows) => new(buffer, (long)rows * Trainer.DIn, Trainer.DIn);
}
