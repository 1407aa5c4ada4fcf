namespace IoiBench.Saes;

/// <summary>The vanilla SAE's GPU step (vanilla.cu): encode, ReLU, decode, and the L1 term's backward pass.</summary>
internal sealed class VanillaStep(BatchedSaeTrainer trainer) : BatchedStep(trainer)
{
    public override void Run(ulong x, ulong centred, int rows)
    {
        var t = Trainer;
        ulong f = t.Buffer("latents", (long)rows * t.DSae), dF = t.Buffer("dLatents", (long)rows * t.DSae);
        t.Product(centred, false, t.Parameter("W_enc"), false, f, rows, t.DSae, t.DIn);
        t.LaunchPerRow("vanilla_activate", rows, f, t.Parameter("b_enc"), t.Stats, t.Fired, rows, t.DSae, t.Saes);
        ulong residual = t.Decode(f, x, rows, "residual", BatchedSaeTrainer.ReconstructionSlot);
        t.DecoderBackward(f, residual, dF, rows);
        t.Kernels.Launch("relu_backward", t.ColumnTiles, 256, dF, f, t.Lambdas, 1f / rows, t.Gradient("b_enc"), rows, t.DSae);
        t.EncoderBackward(centred, dF, t.Gradient("b_enc"), t.Parameter("W_enc"), t.Gradient("W_enc"), rows);
    }
}
