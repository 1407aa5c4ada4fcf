using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// Gated SAE (Rajamanoharan et al. 2024). With x_c = x − b_dec: gate π = x_c·W_gate + b_gate, active where π &gt; 0;
/// magnitude μ = x_c·(W_gate ⊙ exp(r_mag)) + b_mag, ReLU'd unless <see cref="MagnitudeRelu"/> is off (the reference's
/// variant); f̃ = 1[π &gt; 0]·μ; x̂ = f̃·W_dec + b_dec.
/// Loss = mean_b (‖x̂ − x‖² + λ·Σ ReLU(π) + ‖x − (ReLU(π)·sg(W_dec) + sg(b_dec))‖²), sg = stop-gradient.
/// </summary>
public sealed class GatedSae : SparseAutoencoder
{
    public float L1Coefficient { get; }
    public bool MagnitudeRelu { get; }

    public GatedSae(int dIn, int dSae, float l1Coefficient, DeterministicRandom rng, bool magnitudeRelu = true) : base(dIn, dSae)
    {
        L1Coefficient = l1Coefficient;
        MagnitudeRelu = magnitudeRelu;
        var wDec = new Tensor(dSae, dIn);
        for (int i = 0; i < wDec.Length; i++) wDec.Span[i] = (float)rng.NextGaussian();
        Parameters.Add("W_dec", wDec);
        NormaliseDecoderRows();
        Parameters.Add("b_dec", new Tensor(dIn));
        // Drawn independently of W_dec, with the reference's fan-in (d_sae).
        Parameters.Add("W_gate", KaimingUniform(rng, dIn, dSae, fanIn: dSae));
        Parameters.Add("b_gate", new Tensor(dSae));
        Parameters.Add("r_mag", new Tensor(dSae));
        Parameters.Add("b_mag", new Tensor(dSae));
    }

    /// <summary>
    /// The decoder the auxiliary loss reads (its "sg(W_dec), sg(b_dec)"); null means the current one. Gradient checks pin
    /// it to a copy so that finite differences see the stop-gradient that the analytic gradient implements.
    /// </summary>
    internal (Tensor WDec, Tensor BDec)? DetachedDecoder { get; set; }

    /// <summary>W_mag = W_gate with column j scaled by exp(r_mag[j]).</summary>
    private Tensor MagnitudeWeight()
    {
        var wMag = Parameters["W_gate"].Clone();
        var scale = Parameters["r_mag"].Span.ToArray().Select(MathF.Exp).ToArray();
        for (int i = 0; i < DIn; i++) TensorPrimitives.Multiply(wMag.Row(i), scale, wMag.Row(i));
        return wMag;
    }

    private (Tensor Gate, Tensor Magnitude, Tensor WMag, Tensor Latents) Forward(Tensor centred)
    {
        var gate = Project(centred, Parameters["W_gate"], Parameters["b_gate"]);
        var wMag = MagnitudeWeight();
        var magnitude = Project(centred, wMag, Parameters["b_mag"]);
        var latents = new Tensor(magnitude.Shape);
        var g = gate.Span; var m = magnitude.Span; var f = latents.Span;
        for (int i = 0; i < f.Length; i++) f[i] = g[i] > 0 ? (MagnitudeRelu ? Math.Max(m[i], 0f) : m[i]) : 0f;
        return (gate, magnitude, wMag, latents);
    }

    /// <summary>f̃: the magnitudes of active latents.</summary>
    public override Tensor Encode(Tensor x) => Forward(Centre(x)).Latents;

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x);
        var (gate, magnitude, wMag, latents) = Forward(centred);
        var (reconstruction, residual) = ReconstructionLoss(x, Decode(latents));

        var gateRelu = gate.Clone();
        TensorPrimitives.Max(gateRelu.Span, 0f, gateRelu.Span);
        double sparsity = TensorPrimitives.Sum(gateRelu.Span) / batch;
        var (auxiliary, auxResidual) = ReconstructionLoss(x, DecodeDetached(gateRelu));
        double l0 = gate.Span.ToArray().Count(v => v > 0) / (double)batch;

        if (gradients is not null)
        {
            var dLatents = DecoderBackward(latents, residual, gradients);
            var dMagnitude = dLatents.Span;
            var g = gate.Span; var m = magnitude.Span;
            for (int i = 0; i < dMagnitude.Length; i++)
                if (g[i] <= 0 || (MagnitudeRelu && m[i] <= 0)) dMagnitude[i] = 0;
            var dWMag = ProjectBackward(centred, dLatents, wMag, "b_mag", gradients);
            // W_mag = W_gate ⊙ exp(r_mag): ∂/∂W_gate += ∂/∂W_mag ⊙ exp(r_mag); ∂/∂r_mag[j] = Σ_i ∂/∂W_mag[i,j]·W_mag[i,j].
            var rMagGrad = gradients["r_mag"].Span;
            var gateGrad = gradients["W_gate"];
            var scale = Parameters["r_mag"].Span.ToArray().Select(MathF.Exp).ToArray();
            for (int i = 0; i < DIn; i++)
                for (int j = 0; j < DSae; j++)
                {
                    float d = dWMag.Row(i)[j];
                    rMagGrad[j] += d * wMag.Row(i)[j];
                    gateGrad.Row(i)[j] += d * scale[j];
                }

            // The gate gets the sparsity penalty and the auxiliary reconstruction (through a detached decoder).
            var dGate = new Tensor(batch, DSae);
            var scaledAux = auxResidual.Clone();
            TensorPrimitives.Multiply(scaledAux.Span, 2f / batch, scaledAux.Span);
            Gemm.Multiply(scaledAux.Span, Parameters["W_dec"].Span, dGate.Span, batch, DSae, DIn, transB: true);
            var dg = dGate.Span;
            float penalty = L1Coefficient / batch;
            for (int i = 0; i < dg.Length; i++) dg[i] = g[i] > 0 ? dg[i] + penalty : 0f;
            AddInto(ProjectBackward(centred, dGate, Parameters["W_gate"], "b_gate", gradients), gateGrad);
        }
        return new SaeLoss(reconstruction + L1Coefficient * sparsity + auxiliary, reconstruction, sparsity, l0, latents);
    }

    /// <summary>ReLU(π)·sg(W_dec) + sg(b_dec): no gradient reaches the decoder from here.</summary>
    private Tensor DecodeDetached(Tensor latents)
    {
        if (DetachedDecoder is not { } frozen) return Decode(latents);
        int batch = latents.Shape[0];
        var output = new Tensor(batch, DIn);
        for (int b = 0; b < batch; b++) frozen.BDec.Span.CopyTo(output.Row(b));
        Gemm.Multiply(latents.Span, frozen.WDec.Span, output.Span, batch, DIn, DSae, beta: 1f);
        return output;
    }

    public override void AfterStep() => NormaliseDecoderRows();
}
