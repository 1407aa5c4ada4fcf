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
    public override SaeVariant Variant => GatedVariant.Instance;
    public override float SparsityCoefficient => L1Coefficient;

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

    /// <summary>W_mag = W_gate with column j scaled by exp(r_mag[j]), written into <paramref name="output"/>.</summary>
    private Tensor MagnitudeWeight(float[] scale, Tensor output)
    {
        var wGate = Parameters["W_gate"];
        for (int i = 0; i < DIn; i++) TensorPrimitives.Multiply(wGate.Row(i), scale, output.Row(i));
        return output;
    }

    private float[] MagnitudeScale()
    {
        var scale = Parameters["r_mag"].Span.ToArray();
        TensorPrimitives.Exp(scale, scale);
        return scale;
    }

    /// <summary>f̃: the magnitudes of active latents.</summary>
    public override Tensor Encode(Tensor x)
    {
        int batch = x.Shape[0];
        var centred = Centre(x, new Tensor(batch, DIn));
        var gate = Project(centred, Parameters["W_gate"], Parameters["b_gate"], new Tensor(batch, DSae));
        var latents = Project(centred, MagnitudeWeight(MagnitudeScale(), new Tensor(DIn, DSae)), Parameters["b_mag"], new Tensor(batch, DSae));
        LatentKernels.Gate(gate.Span, latents.Span, latents.Span, MagnitudeRelu);
        return latents;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x, Scratch("centred", batch, DIn));
        var scale = MagnitudeScale();
        var wMag = MagnitudeWeight(scale, Scratch("W_mag", DIn, DSae));
        var gate = Project(centred, Parameters["W_gate"], Parameters["b_gate"], Scratch("gate", batch, DSae));
        var magnitude = Project(centred, wMag, Parameters["b_mag"], Scratch("magnitude", batch, DSae));
        var latents = Scratch("latents", batch, DSae);
        LatentKernels.Gate(gate.Span, magnitude.Span, latents.Span, MagnitudeRelu);
        var residual = Decode(latents, Scratch("residual", batch, DIn));
        double reconstruction = ReconstructionLoss(x, residual);

        var gateRelu = Scratch("gateRelu", batch, DSae);
        TensorPrimitives.Max(gate.Span, 0f, gateRelu.Span);
        double sparsity = TensorPrimitives.Sum(gateRelu.Span) / batch;
        var frozen = DetachedDecoder;
        var auxResidual = Decode(gateRelu, Scratch("auxResidual", batch, DIn), frozen?.WDec, frozen?.BDec);
        double auxiliary = ReconstructionLoss(x, auxResidual);
        double l0 = LatentKernels.CountPositive(gate.Span) / (double)batch;

        if (gradients is not null)
        {
            var dMagnitude = DecoderBackward(latents, residual, gradients);
            // f̃ passes gradient where the gate is open (and, with the ReLU, where f̃ > 0).
            LatentKernels.KeepWherePositive(dMagnitude.Span, MagnitudeRelu ? latents.Span : gate.Span);
            var dWMag = Scratch("dW_mag", DIn, DSae);
            dWMag.Span.Clear();
            ProjectBackward(centred, dMagnitude, wMag, dWMag, "b_mag", gradients);
            // W_mag = W_gate ⊙ exp(r_mag): ∂/∂W_gate += ∂/∂W_mag ⊙ exp(r_mag); ∂/∂r_mag[j] = Σ_i ∂/∂W_mag[i,j]·W_mag[i,j].
            var rMagGradient = gradients["r_mag"].Span;
            var gateGradient = gradients["W_gate"];
            for (int i = 0; i < DIn; i++)
            {
                var dRow = dWMag.Row(i);
                var gateRow = gateGradient.Row(i);
                TensorPrimitives.MultiplyAdd(dRow, wMag.Row(i), rMagGradient, rMagGradient);
                TensorPrimitives.MultiplyAdd(dRow, scale, gateRow, gateRow);
            }

            // The gate gets the sparsity penalty and the auxiliary reconstruction (through the detached decoder, so
            // the decoder gets nothing from it).
            var dGate = Scratch("dGate", batch, DSae);
            TensorPrimitives.Multiply(auxResidual.Span, 2f / batch, auxResidual.Span);
            Gemm.Multiply(auxResidual.Span, (frozen?.WDec ?? Parameters["W_dec"]).Span, dGate.Span, batch, DSae, DIn, transB: true);
            LatentKernels.KeepWherePositive(dGate.Span, gate.Span, add: L1Coefficient / batch);
            ProjectBackward(centred, dGate, Parameters["W_gate"], gateGradient, "b_gate", gradients);
        }
        return new SaeLoss(reconstruction + L1Coefficient * sparsity + auxiliary, reconstruction, sparsity, l0, latents);
    }

    public override void AfterStep() => NormaliseDecoderRows();
}
