using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// ReLU SAE with an L1 penalty: f = ReLU((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec,
/// loss = mean_b (‖x̂ − x‖² + λ·Σ_j f_j). Decoder rows are kept at unit norm after every step.
/// </summary>
public sealed class VanillaSae : SparseAutoencoder
{
    public float L1Coefficient { get; }
    public override SaeVariant Variant => VanillaVariant.Instance;
    public override float SparsityCoefficient => L1Coefficient;

    public VanillaSae(int dIn, int dSae, float l1Coefficient, DeterministicRandom rng) : base(dIn, dSae)
    {
        L1Coefficient = l1Coefficient;
        InitialiseTiedUnitNorm(rng, "W_enc");
        Parameters.Add("b_enc", new Tensor(dSae));
    }

    public override Tensor Encode(Tensor x)
    {
        int batch = x.Shape[0];
        var f = Project(Centre(x, new Tensor(batch, DIn)), Parameters["W_enc"], Parameters["b_enc"], new Tensor(batch, DSae));
        System.Numerics.Tensors.TensorPrimitives.Max(f.Span, 0f, f.Span);
        return f;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x, Scratch("centred", batch, DIn));
        var f = Project(centred, Parameters["W_enc"], Parameters["b_enc"], Scratch("latents", batch, DSae));
        System.Numerics.Tensors.TensorPrimitives.Max(f.Span, 0f, f.Span);
        double l1 = System.Numerics.Tensors.TensorPrimitives.Sum(f.Span) / batch;
        double l0 = LatentKernels.CountPositive(f.Span) / (double)batch;
        var residual = Decode(f, Scratch("residual", batch, DIn));
        double reconstruction = ReconstructionLoss(x, residual);
        if (gradients is not null)
        {
            var dPre = DecoderBackward(f, residual, gradients);
            LatentKernels.KeepWherePositive(dPre.Span, f.Span, add: L1Coefficient / batch);
            ProjectBackward(centred, dPre, Parameters["W_enc"], gradients["W_enc"], "b_enc", gradients);
        }
        return new SaeLoss(reconstruction + L1Coefficient * l1, reconstruction, l1, l0, f);
    }

    public override void AfterStep() => NormaliseDecoderRows();
}
