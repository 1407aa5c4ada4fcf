namespace IoiBench.Saes;

/// <summary>
/// The gated SAE's GPU step (gated.cu). The magnitude path's weights are W_gate with columns scaled by exp(r_mag), so
/// one product (x − b_dec)·W_gate serves both paths forward, and one product gives ∂/∂W_gate for both backward (the CPU
/// forms W_mag and runs each path's products; the sums are the same, rounded differently).
/// </summary>
internal sealed class GatedStep(BatchedSaeTrainer trainer) : BatchedStep(trainer)
{
    private readonly bool _relu = Shared(trainer, sae => ((GatedSae)sae).MagnitudeRelu);

    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        long latents = (long)rows * t.DSae;
        ulong gate = t.Buffer("gate", latents), f = t.Buffer("latents", latents), gateRelu = t.Buffer("gateRelu", latents),
            dMagnitude = t.Buffer("dLatents", latents), dGate = t.Buffer("dGate", latents), combinedSums = t.Buffer("dGateSums", t.DSae);
        t.Product(centred, false, t.Parameter("W_gate"), false, gate, rows, t.DSae, t.DIn);
        t.LaunchPerRow("gated_activate", rows, gate, t.Parameter("b_gate"), t.Parameter("r_mag"), t.Parameter("b_mag"), f, gateRelu,
            t.Stats, t.Fired, _relu ? 1 : 0, rows, t.DSae, t.Saes);
        ulong residual = t.Decode(f, x, rows, "residual", BatchedSaeTrainer.ReconstructionSlot);
        // The auxiliary reconstruction from ReLU(gate) reads the decoder but sends it no gradient (stop-gradient).
        ulong auxResidual = t.Decode(gateRelu, x, rows, "auxResidual", BatchedSaeTrainer.AuxiliarySlot);

        t.DecoderBackward(f, residual, dMagnitude, rows);
        t.Product(auxResidual, false, t.Parameter("W_dec"), true, dGate, rows, t.DSae, t.DIn);
        t.Kernels.Launch("gated_backward", t.ColumnTiles, 256, dMagnitude, dGate, f, gateRelu, gate, t.Parameter("r_mag"),
            t.Lambdas, 1f / rows, _relu ? 1 : 0, t.Gradient("b_mag"), t.Gradient("b_gate"), t.Gradient("r_mag"), combinedSums, rows, t.DSae);
        t.EncoderBackward(centred, dGate, combinedSums, t.Parameter("W_gate"), t.Gradient("W_gate"), rows);
    }
}
