namespace IoiBench.Saes;

/// <summary>The JumpReLU SAE's GPU step (jumprelu.cu): encode, jump, decode, and the straight-through backward pass.</summary>
internal sealed class JumpReluStep(BatchedSaeTrainer trainer) : BatchedStep(trainer)
{
    private readonly float _bandwidth = Shared(trainer, sae => ((JumpReluSae)sae).Bandwidth);

    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        long latents = (long)rows * t.DSae;
        ulong pre = t.Buffer("pre", latents), f = t.Buffer("latents", latents), dF = t.Buffer("dLatents", latents);
        t.Product(centred, false, t.Parameter("W_enc"), false, pre, rows, t.DSae, t.DIn);
        t.LaunchPerRow("jumprelu_activate", rows, pre, t.Parameter("b_enc"), t.Parameter("log_threshold"), f, t.Stats, t.Fired, rows, t.DSae, t.Saes);
        ulong residual = t.Decode(f, x, rows, "residual", BatchedSaeTrainer.ReconstructionSlot);
        t.DecoderBackward(f, residual, dF, rows);
        t.Kernels.Launch("jumprelu_backward", t.ColumnTiles, 256, dF, pre, f, t.Parameter("log_threshold"), t.Lambdas, 1f / rows, _bandwidth,
            t.Gradient("b_enc"), t.Gradient("log_threshold"), rows, t.DSae);
        t.EncoderBackward(centred, dF, t.Gradient("b_enc"), t.Parameter("W_enc"), t.Gradient("W_enc"), rows);
    }
}
