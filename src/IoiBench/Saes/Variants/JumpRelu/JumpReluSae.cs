using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// JumpReLU SAE (Rajamanoharan et al. 2024, "Jumping ahead"). With pre = (x − b_dec)·W_enc + b_enc and a learned
/// threshold θ_j = exp(log_threshold_j) per latent: f = pre·H(pre − θ), x̂ = f·W_dec + b_dec, unit-norm decoder rows;
/// loss = mean_b (‖x̂ − x‖² + λ·Σ_j H(pre_j − θ_j)), an L0 penalty. H has no useful gradient, so θ gets the paper's
/// straight-through estimates with a rectangle kernel of bandwidth ε, K(u) = 1[|u| &lt; ½]: ∂f/∂θ = −(θ/ε)·K((pre − θ)/ε)
/// and ∂H/∂θ = −(1/ε)·K((pre − θ)/ε); pre gets H(pre − θ) from f and nothing from the penalty. (SAELens's "step" mode.)
/// </summary>
public sealed class JumpReluSae : SparseAutoencoder
{
    public float L0Coefficient { get; }

    /// <summary>ε, the straight-through estimator's kernel width (in the data's units).</summary>
    public float Bandwidth { get; }

    public override SaeVariant Variant => JumpReluVariant.Instance;
    public override float SparsityCoefficient => L0Coefficient;

    public JumpReluSae(int dIn, int dSae, float l0Coefficient, DeterministicRandom rng, float bandwidth = 0.1f, float initialThreshold = 1f)
        : base(dIn, dSae)
    {
        L0Coefficient = l0Coefficient;
        Bandwidth = bandwidth;
        InitialiseTiedUnitNorm(rng, "W_enc");
        Parameters.Add("b_enc", new Tensor(dSae));
        var logThreshold = new Tensor(dSae);
        logThreshold.Span.Fill(MathF.Log(initialThreshold));
        Parameters.Add("log_threshold", logThreshold);
    }

    /// <summary>θ = exp(log_threshold), per latent.</summary>
    public float[] Thresholds()
    {
        var theta = Parameters["log_threshold"].Span.ToArray();
        for (int j = 0; j < theta.Length; j++) theta[j] = MathF.Exp(theta[j]);
        return theta;
    }

    public override Tensor Encode(Tensor x)
    {
        int batch = x.Shape[0];
        var f = Project(Centre(x, new Tensor(batch, DIn)), Parameters["W_enc"], Parameters["b_enc"], new Tensor(batch, DSae));
        Jump(f, f, Thresholds());
        return f;
    }

    /// <summary>f = pre where pre &gt; θ, else 0 (in place when f is pre); returns the count of open latents.</summary>
    private static int Jump(Tensor pre, Tensor f, float[] theta)
    {
        int open = 0;
        for (int r = 0; r < pre.Shape[0]; r++)
        {
            var input = pre.Row(r);
            var output = f.Row(r);
            for (int j = 0; j < theta.Length; j++)
            {
                bool above = input[j] > theta[j];
                output[j] = above ? input[j] : 0f;
                open += above ? 1 : 0;
            }
        }
        return open;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var theta = Thresholds();
        var centred = Centre(x, Scratch("centred", batch, DIn));
        var pre = Project(centred, Parameters["W_enc"], Parameters["b_enc"], Scratch("pre", batch, DSae));
        var f = Scratch("latents", batch, DSae);
        double l0 = Jump(pre, f, theta) / (double)batch;
        var residual = Decode(f, Scratch("residual", batch, DIn));
        double reconstruction = ReconstructionLoss(x, residual);
        if (gradients is not null)
        {
            var dF = DecoderBackward(f, residual, gradients);
            ThresholdBackward(pre, dF, theta, batch, gradients["log_threshold"].Span);
            LatentKernels.KeepWhereNonZero(dF.Span, f.Span);
            ProjectBackward(centred, dF, Parameters["W_enc"], gradients["W_enc"], "b_enc", gradients);
        }
        return new SaeLoss(reconstruction + L0Coefficient * l0, reconstruction, l0, l0, f);
    }

    /// <summary>
    /// ∂loss/∂log θ_j = θ_j·Σ_b K((pre − θ_j)/ε)·(−(θ_j/ε)·∂loss/∂f − λ/(B·ε)), from the estimators above.
    /// </summary>
    private void ThresholdBackward(Tensor pre, Tensor dF, float[] theta, int batch, Span<float> logThresholdGradient)
    {
        float epsilon = Bandwidth, penalty = L0Coefficient / (batch * epsilon);
        var dTheta = new double[DSae];
        for (int r = 0; r < batch; r++)
        {
            var input = pre.Row(r);
            var gradient = dF.Row(r);
            for (int j = 0; j < DSae; j++)
            {
                float u = (input[j] - theta[j]) / epsilon;
                if (u > -0.5f && u < 0.5f) dTheta[j] += -(theta[j] / epsilon) * gradient[j] - penalty;
            }
        }
        for (int j = 0; j < DSae; j++) logThresholdGradient[j] += (float)(theta[j] * dTheta[j]);
    }

    public override void AfterStep() => NormaliseDecoderRows();
}
