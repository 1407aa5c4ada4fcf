using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Top-k SAE (Gao et al. 2024): z = ReLU(TopK_k((x − b_dec)·W_enc + b_enc)), x̂ = z·W_dec + b_dec, loss = mean_b ‖x̂ − x‖².
/// Options reproduce the reference's variant: no ReLU after the top-k (negative values can be kept) and no encoder bias.
/// With <see cref="AuxK"/> &gt; 0 the loss adds Gao et al.'s auxiliary term, which lets dead latents learn: the top
/// AuxK pre-activations among <see cref="DeadLatents"/> reconstruct the residual e = x − x̂ (held fixed), weighted by
/// <see cref="AuxKCoefficient"/>·min(dead / AuxK, 1): L_aux = that weight · mean_b ‖z_aux·W_dec − e‖².
/// </summary>
public sealed class TopKSae : SparseAutoencoder, IUsesDeadLatents
{
    private readonly Tensor _noBias;

    public int K { get; }
    public bool Relu { get; }
    public bool EncoderBias { get; }
    public override SaeVariant Variant => TopKVariant.Instance;

    /// <summary>Unit-norm decoder rows keep latent magnitudes comparable (the reference's variant leaves them free).</summary>
    public bool NormaliseDecoder { get; init; } = true;

    /// <summary>How many dead latents reconstruct the residual in the auxiliary loss; 0 turns it off (the reference).</summary>
    public int AuxK { get; init; }

    public float AuxKCoefficient { get; init; } = 1f / 32;

    /// <summary>Latents the trainer found dead (silent through the previous epoch): the auxiliary loss's candidates.</summary>
    public bool[]? DeadLatents { get; set; }

    public bool WantsDeadLatents => AuxK > 0;

    /// <summary>
    /// The residual e the auxiliary loss targets; null means x − x̂ of the batch. Gradient checks pin it so that finite
    /// differences see the stop-gradient the analytic gradient implements.
    /// </summary>
    internal Tensor? FrozenAuxTarget { get; set; }

    /// <summary>
    /// A fresh top-k SAE: decoder rows Kaiming-uniform and unit-norm with the encoder their transpose, or, with
    /// <paramref name="referenceInit"/>, the reference's: W_enc [d_in, d_sae] Kaiming-uniform with PyTorch's fan-in for
    /// that shape (d_sae) and W_dec = W_encᵀ, rows not normalised.
    /// </summary>
    public TopKSae(int dIn, int dSae, int k, DeterministicRandom rng, bool relu = true, bool encoderBias = true, bool referenceInit = false) : base(dIn, dSae)
    {
        if (k < 1 || k > dSae) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} must be in 1…{dSae}.");
        K = k;
        Relu = relu;
        EncoderBias = encoderBias;
        if (referenceInit) InitialiseFromEncoder(rng);
        else InitialiseTiedUnitNorm(rng, "W_enc");
        if (encoderBias) Parameters.Add("b_enc", new Tensor(dSae));
        _noBias = new Tensor(dIn);
    }

    public override Tensor Encode(Tensor x)
    {
        int batch = x.Shape[0];
        var pre = Project(Centre(x, new Tensor(batch, DIn)), Parameters["W_enc"], EncoderBias ? Parameters["b_enc"] : null, new Tensor(batch, DSae));
        return Select(pre, new Tensor(batch, DSae), K, among: null);
    }

    /// <summary>
    /// Keeps each row's k largest pre-activations (ties to the lower index), among the latents marked in
    /// <paramref name="among"/> when given, then ReLU if enabled. A sorted list of the best k so far makes this one pass
    /// over the row for the small k that SAEs use.
    /// </summary>
    private Tensor Select(Tensor pre, Tensor z, int k, bool[]? among)
    {
        int batch = pre.Shape[0];
        z.Span.Clear();
        Span<int> best = k <= 256 ? stackalloc int[k] : new int[k];
        for (int b = 0; b < batch; b++)
        {
            var row = pre.Row(b);
            int count = 0;
            for (int j = 0; j < DSae; j++)
            {
                if (among is not null && !among[j]) continue;
                float value = row[j];
                // Strictly greater: an equal later value never displaces an earlier one.
                if (count == k && !(value > row[best[k - 1]])) continue;
                int slot = count < k ? count++ : k - 1;
                while (slot > 0 && value > row[best[slot - 1]])
                {
                    best[slot] = best[slot - 1];
                    slot--;
                }
                best[slot] = j;
            }
            var output = z.Row(b);
            for (int i = 0; i < count; i++)
            {
                float value = row[best[i]];
                output[best[i]] = Relu ? Math.Max(value, 0f) : value;
            }
        }
        return z;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x, Scratch("centred", batch, DIn));
        var pre = Project(centred, Parameters["W_enc"], EncoderBias ? Parameters["b_enc"] : null, Scratch("pre", batch, DSae));
        var z = Select(pre, Scratch("latents", batch, DSae), K, among: null);
        var residual = Decode(z, Scratch("residual", batch, DIn));
        double reconstruction = ReconstructionLoss(x, residual);
        double l0 = LatentKernels.CountNonZero(z.Span) / (double)batch;
        var auxiliary = Auxiliary(pre, residual);
        if (gradients is not null)
        {
            var dZ = DecoderBackward(z, residual, gradients);
            // Gradient flows only through the kept (and, with ReLU, positive) entries.
            LatentKernels.KeepWhereNonZero(dZ.Span, z.Span);
            if (auxiliary is { } aux) AuxiliaryBackward(aux.Latents, aux.Difference, aux.Weight, dZ, gradients);
            ProjectBackward(centred, dZ, Parameters["W_enc"], gradients["W_enc"], EncoderBias ? "b_enc" : null, gradients);
        }
        double auxLoss = auxiliary?.Loss ?? 0;
        return new SaeLoss(reconstruction + auxLoss, reconstruction, 0, l0, z);
    }

    /// <summary>
    /// The AuxK term from the pre-activations and the residual x̂ − x (before the decoder's backward pass scales it):
    /// the dead latents' top-AuxK values, their reconstruction minus e, the term's weight and its value.
    /// </summary>
    private (Tensor Latents, Tensor Difference, float Weight, double Loss)? Auxiliary(Tensor pre, Tensor residual)
    {
        if (AuxK == 0 || DeadLatents is not { } dead) return null;
        int deadCount = dead.Count(d => d);
        if (deadCount == 0) return null;
        int batch = pre.Shape[0];
        float weight = AuxKCoefficient * Math.Min(deadCount / (float)AuxK, 1f);
        var latents = Select(pre, Scratch("auxLatents", batch, DSae), Math.Min(AuxK, deadCount), dead);
        // ê − e with ê = z_aux·W_dec (no bias) and e = x − x̂ = −residual.
        var difference = Decode(latents, Scratch("auxDifference", batch, DIn), bias: _noBias);
        var target = FrozenAuxTarget;
        if (target is null) System.Numerics.Tensors.TensorPrimitives.Add(difference.Span, residual.Span, difference.Span);
        else System.Numerics.Tensors.TensorPrimitives.Subtract(difference.Span, target.Span, difference.Span);
        return (latents, difference, weight, weight * System.Numerics.Tensors.TensorPrimitives.SumOfSquares(difference.Span) / batch);
    }

    /// <summary>Adds the AuxK term's gradient: into ∂/∂W_dec, and through the kept dead latents into dZ.</summary>
    private void AuxiliaryBackward(Tensor latents, Tensor difference, float weight, Tensor dZ, SaeParameters gradients)
    {
        int batch = latents.Shape[0];
        System.Numerics.Tensors.TensorPrimitives.Multiply(difference.Span, 2f * weight / batch, difference.Span);
        Gemm.Multiply(latents.Span, difference.Span, gradients["W_dec"].Span, DSae, DIn, batch, transA: true, beta: 1f);
        var dAux = Scratch("dAuxLatents", batch, DSae);
        Gemm.Multiply(difference.Span, Parameters["W_dec"].Span, dAux.Span, batch, DSae, DIn, transB: true);
        LatentKernels.KeepWhereNonZero(dAux.Span, latents.Span);
        System.Numerics.Tensors.TensorPrimitives.Add(dZ.Span, dAux.Span, dZ.Span);
    }

    public override void AfterStep()
    {
        if (NormaliseDecoder) NormaliseDecoderRows();
    }
}
