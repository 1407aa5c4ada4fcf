using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// ReLU SAE with an L1 penalty: f = ReLU((x − b_dec)·W_enc + b_enc), x̂ = f·W_dec + b_dec,
/// loss = mean_b (‖x̂ − x‖² + λ·Σ_j f_j). Decoder rows are kept at unit norm after every step.
/// </summary>
public sealed class VanillaSae : SparseAutoencoder
{
    public float L1Coefficient { get; }

    public VanillaSae(int dIn, int dSae, float l1Coefficient, DeterministicRandom rng) : base(dIn, dSae)
    {
        L1Coefficient = l1Coefficient;
        InitialiseTiedUnitNorm(rng, "W_enc");
        Parameters.Add("b_enc", new Tensor(dSae));
    }

    public override Tensor Encode(Tensor x) => Latents(Centre(x));

    private Tensor Latents(Tensor centred)
    {
        var pre = Project(centred, Parameters["W_enc"], Parameters["b_enc"]);
        System.Numerics.Tensors.TensorPrimitives.Max(pre.Span, 0f, pre.Span);
        return pre;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x);
        var f = Latents(centred);
        var (reconstruction, residual) = ReconstructionLoss(x, Decode(f));
        double l1 = System.Numerics.Tensors.TensorPrimitives.Sum(f.Span) / batch;
        double l0 = f.Span.ToArray().Count(v => v > 0) / (double)batch;
        if (gradients is not null)
        {
            var dF = DecoderBackward(f, residual, gradients);
            var dPre = dF.Span;
            var fs = f.Span;
            float penalty = L1Coefficient / batch;
            for (int i = 0; i < dPre.Length; i++) dPre[i] = fs[i] > 0 ? dPre[i] + penalty : 0f;
            AddInto(ProjectBackward(centred, dF, Parameters["W_enc"], "b_enc", gradients), gradients["W_enc"]);
        }
        return new SaeLoss(reconstruction + L1Coefficient * l1, reconstruction, l1, l0, f);
    }

    public override void AfterStep() => NormaliseDecoderRows();
}
