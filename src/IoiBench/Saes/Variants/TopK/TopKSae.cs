using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Top-k SAE (Gao et al. 2024): z = ReLU(TopK_k((x − b_dec)·W_enc + b_enc)), x̂ = z·W_dec + b_dec, loss = mean_b ‖x̂ − x‖².
/// Options reproduce the reference's variant: no ReLU after the top-k (negative values can be kept) and no encoder bias.
/// With <see cref="AuxK"/> &gt; 0 the loss adds Gao et al.'s auxiliary term (<see cref="AuxKTerm"/>), which lets dead
/// latents learn.
/// </summary>
public sealed class TopKSae : SparseAutoencoder, IUsesDeadLatents
{
    private AuxKTerm? _aux;

    public int K { get; }
    public bool Relu { get; }
    public bool EncoderBias { get; }
    public override SaeVariant Variant => TopKVariant.Instance;

    /// <summary>Unit-norm decoder rows keep latent magnitudes comparable (the reference's variant leaves them free).</summary>
    public bool NormaliseDecoder { get; init; } = true;

    /// <summary>How many dead latents reconstruct the residual in the auxiliary loss; 0 turns it off (the reference).</summary>
    public int AuxK { get; init; }

    public float AuxKCoefficient { get; init; } = 1f / 32;

    private AuxKTerm Aux => _aux ??= new AuxKTerm(AuxK, AuxKCoefficient, Relu);

    /// <summary>Latents the trainer found dead (silent through the previous epoch): the auxiliary loss's candidates.</summary>
    public bool[]? DeadLatents { get => Aux.DeadLatents; set => Aux.DeadLatents = value; }

    public bool WantsDeadLatents => AuxK > 0;

    /// <summary>The residual e the auxiliary loss targets (<see cref="AuxKTerm.FrozenTarget"/>).</summary>
    internal Tensor? FrozenAuxTarget { get => Aux.FrozenTarget; set => Aux.FrozenTarget = value; }

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
    }

    public override Tensor Encode(Tensor x)
    {
        int batch = x.Shape[0];
        var pre = Project(Centre(x, new Tensor(batch, DIn)), Parameters["W_enc"], EncoderBias ? Parameters["b_enc"] : null, new Tensor(batch, DSae));
        return TopKSelection.Rows(pre, new Tensor(batch, DSae), K, among: null, Relu);
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x, Scratch("centred", batch, DIn));
        var pre = Project(centred, Parameters["W_enc"], EncoderBias ? Parameters["b_enc"] : null, Scratch("pre", batch, DSae));
        var z = TopKSelection.Rows(pre, Scratch("latents", batch, DSae), K, among: null, Relu);
        var residual = Decode(z, Scratch("residual", batch, DIn));
        double reconstruction = ReconstructionLoss(x, residual);
        double l0 = LatentKernels.CountNonZero(z.Span) / (double)batch;
        var auxiliary = Aux.Evaluate(pre, residual, Parameters["W_dec"]);
        if (gradients is not null)
        {
            var dZ = DecoderBackward(z, residual, gradients);
            // Gradient flows only through the kept (and, with ReLU, positive) entries.
            LatentKernels.KeepWhereNonZero(dZ.Span, z.Span);
            if (auxiliary is not null) Aux.Backward(auxiliary, Parameters["W_dec"], gradients["W_dec"], dZ);
            ProjectBackward(centred, dZ, Parameters["W_enc"], gradients["W_enc"], EncoderBias ? "b_enc" : null, gradients);
        }
        double auxLoss = auxiliary?.Loss ?? 0;
        return new SaeLoss(reconstruction + auxLoss, reconstruction, 0, l0, z);
    }

    public override void AfterStep()
    {
        if (NormaliseDecoder) NormaliseDecoderRows();
    }
}
