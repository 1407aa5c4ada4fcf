using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// BatchTopK SAE (Bussmann et al. 2024) and its Matryoshka form (Bussmann et al. 2025; Nabeshima 2025). With pre =
/// (x − b_dec)·W_enc + b_enc, training keeps the k·B largest of ReLU(pre) over the whole batch of B (ties to the lower
/// flat index), so k latents fire per example on average; x̂ = f·W_dec + b_dec, unit-norm decoder rows. Matryoshka
/// nests <see cref="Levels"/>: each prefix of the latents f[:, :w] reconstructs x on its own, x̂_w = f[:, :w]·W_dec[:w] +
/// b_dec, and the loss sums every level's mean_b ‖x̂_w − x‖² (BatchTopK is the one level w = d_sae). Optional AuxK
/// (<see cref="AuxKTerm"/>) on the full level's residual. At inference the batch is gone: a latent fires when pre
/// exceeds the threshold θ (<see cref="PrepareForInference"/>), as in SAELens's JumpReLU files the variant writes.
/// </summary>
public sealed class BatchTopKSae : SparseAutoencoder, IUsesDeadLatents
{
    private readonly SaeVariant _variant;
    private readonly AuxKTerm _aux;

    /// <summary>Latents kept per example, on average over a batch.</summary>
    public int K { get; }

    /// <summary>The nested widths, strictly increasing, the last being d_sae (BatchTopK: d_sae alone).</summary>
    public IReadOnlyList<int> Levels { get; }

    public int AuxK => _aux.AuxK;
    public float AuxKCoefficient => _aux.Coefficient;
    public override SaeVariant Variant => _variant;

    /// <summary>θ, the same for every latent: the inference threshold.</summary>
    public float Threshold => Buffers["threshold"].Span[0];

    public bool[]? DeadLatents { get => _aux.DeadLatents; set => _aux.DeadLatents = value; }
    public bool WantsDeadLatents => AuxK > 0;

    /// <summary>The residual e the auxiliary loss targets (<see cref="AuxKTerm.FrozenTarget"/>).</summary>
    internal Tensor? FrozenAuxTarget { get => _aux.FrozenTarget; set => _aux.FrozenTarget = value; }

    /// <summary>
    /// A fresh SAE: Kaiming-uniform, unit-norm decoder rows with the encoder their transpose, zero biases, θ = 0 until
    /// estimated. <paramref name="levels"/> null: BatchTopK's single level.
    /// </summary>
    public BatchTopKSae(SaeVariant variant, int dIn, int dSae, int k, DeterministicRandom rng, IReadOnlyList<int>? levels = null,
        int auxK = 0, float auxKCoefficient = 1f / 32) : base(dIn, dSae)
    {
        if (k < 1 || k > dSae) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} must be in 1…{dSae}.");
        levels ??= [dSae];
        if (levels.Count == 0 || levels[^1] != dSae || levels.Zip(levels.Skip(1)).Any(p => p.First >= p.Second) || levels[0] < 1)
            throw new ArgumentException($"levels [{string.Join(", ", levels)}] must rise strictly to d_sae = {dSae}.", nameof(levels));
        _variant = variant;
        K = k;
        Levels = levels;
        _aux = new AuxKTerm(auxK, auxKCoefficient, relu: true);
        InitialiseTiedUnitNorm(rng, "W_enc");
        Parameters.Add("b_enc", new Tensor(dSae));
        Buffers["threshold"] = new Tensor(dSae);
    }

    /// <summary>Inference: f = pre where pre &gt; θ, else 0.</summary>
    public override Tensor Encode(Tensor x)
    {
        int batch = x.Shape[0];
        var f = Project(Centre(x, new Tensor(batch, DIn)), Parameters["W_enc"], Parameters["b_enc"], new Tensor(batch, DSae));
        float threshold = Threshold;
        var span = f.Span;
        for (int i = 0; i < span.Length; i++) span[i] = span[i] > threshold && span[i] > 0 ? span[i] : 0f;
        return f;
    }

    /// <summary>ReLU(pre) with the batch's k·B largest kept (written into <paramref name="f"/>).</summary>
    private Tensor SelectBatch(Tensor pre, Tensor f)
    {
        var source = pre.Span;
        var target = f.Span;
        for (int i = 0; i < source.Length; i++) target[i] = source[i] > 0 ? source[i] : 0f;   // +0, never −0: bits order the floats
        BatchSelection.KeepLargest(target, (long)K * pre.Shape[0]);
        return f;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x, Scratch("centred", batch, DIn));
        var pre = Project(centred, Parameters["W_enc"], Parameters["b_enc"], Scratch("pre", batch, DSae));
        var f = SelectBatch(pre, Scratch("latents", batch, DSae));
        double l0 = LatentKernels.CountNonZero(f.Span) / (double)batch;
        var residuals = LevelResiduals(x, f);
        double reconstruction = TensorPrimitives.SumOfSquares(residuals[^1].Span) / batch, inner = 0;
        for (int l = 0; l < residuals.Length - 1; l++) inner += TensorPrimitives.SumOfSquares(residuals[l].Span) / batch;
        var auxiliary = _aux.Evaluate(pre, residuals[^1], Parameters["W_dec"]);
        if (gradients is not null)
        {
            var dF = LevelsBackward(f, residuals, gradients);
            LatentKernels.KeepWhereNonZero(dF.Span, f.Span);
            if (auxiliary is not null) _aux.Backward(auxiliary, Parameters["W_dec"], gradients["W_dec"], dF);
            ProjectBackward(centred, dF, Parameters["W_enc"], gradients["W_enc"], "b_enc", gradients);
        }
        return new SaeLoss(reconstruction + inner + (auxiliary?.Loss ?? 0), reconstruction, 0, l0, f);
    }

    /// <summary>
    /// Every level's residual x̂_w − x, built up level by level: x̂ of a level is the previous level's plus its block of
    /// latents times its block of decoder rows.
    /// </summary>
    private Tensor[] LevelResiduals(Tensor x, Tensor f)
    {
        int batch = x.Shape[0];
        var running = Scratch("running", batch, DIn);
        var bDec = Parameters["b_dec"].Span;
        for (int r = 0; r < batch; r++) bDec.CopyTo(running.Row(r));
        var wDec = Parameters["W_dec"].Span;
        var residuals = new Tensor[Levels.Count];
        for (int l = 0, start = 0; l < Levels.Count; start = Levels[l++])
        {
            int width = Levels[l] - start;
            Gemm.Multiply(f.Span[start..], wDec[(start * DIn)..], running.Span, batch, DIn, width, beta: 1f, lda: DSae);
            residuals[l] = Scratch($"residual{l}", batch, DIn);
            TensorPrimitives.Subtract(running.Span, x.Span, residuals[l].Span);
        }
        return residuals;
    }

    /// <summary>
    /// The levels' reconstruction terms backward. With r_w = (2/B)(x̂_w − x), latent block i is read by every level from
    /// its own on, so it gets R_i = Σ_{levels ≥ i} r_w: ∂/∂f_i = R_i·W_dec,iᵀ, ∂/∂W_dec,i = f_iᵀ·R_i, ∂/∂b_dec = Σ_rows R_1.
    /// Returns ∂loss/∂f (before the selection's mask).
    /// </summary>
    private Tensor LevelsBackward(Tensor f, Tensor[] residuals, SaeParameters gradients)
    {
        int batch = f.Shape[0];
        foreach (var residual in residuals) TensorPrimitives.Multiply(residual.Span, 2f / batch, residual.Span);
        for (int l = residuals.Length - 2; l >= 0; l--) TensorPrimitives.Add(residuals[l].Span, residuals[l + 1].Span, residuals[l].Span);
        var dF = Scratch("dLatents", batch, DSae);
        var wDec = Parameters["W_dec"].Span;
        var dWDec = gradients["W_dec"].Span;
        for (int l = 0, start = 0; l < Levels.Count; start = Levels[l++])
        {
            int width = Levels[l] - start;
            var suffix = residuals[l].Span;
            Gemm.Multiply(f.Span[start..], suffix, dWDec[(start * DIn)..], width, DIn, batch, transA: true, beta: 1f, lda: DSae);
            Gemm.Multiply(suffix, wDec[(start * DIn)..], dF.Span[start..], batch, width, DIn, transB: true, ldc: DSae);
        }
        var bDecGradient = gradients["b_dec"].Span;
        for (int r = 0; r < batch; r++) TensorPrimitives.Add(bDecGradient, residuals[0].Row(r), bDecGradient);
        return dF;
    }

    public override void AfterStep() => NormaliseDecoderRows();

    /// <summary>
    /// Estimates θ from the training data, as Bussmann et al. define it: the mean, over the data's batches (in order, of
    /// the training batch size), of the smallest positive value the batch's selection keeps.
    /// </summary>
    public override void PrepareForInference(Tensor data, int batchSize)
    {
        int n = data.Shape[0];
        double sum = 0;
        int batches = 0;
        for (int start = 0; start < n; start += batchSize)
        {
            var batch = data.Slice(start, Math.Min(batchSize, n - start));
            var pre = Project(Centre(batch, new Tensor(batch.Shape[0], DIn)), Parameters["W_enc"], Parameters["b_enc"], new Tensor(batch.Shape[0], DSae));
            var f = SelectBatch(pre, pre);
            float smallest = float.PositiveInfinity;
            foreach (float v in f.Span) if (v > 0 && v < smallest) smallest = v;
            if (float.IsPositiveInfinity(smallest)) continue;
            sum += smallest;
            batches++;
        }
        Buffers["threshold"].Span.Fill(batches == 0 ? 0f : (float)(sum / batches));
    }
}
