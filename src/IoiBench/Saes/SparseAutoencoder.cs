using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>The loss of one batch, its parts, the batch's sparsity, and the latent magnitudes it was computed from.</summary>
public sealed record SaeLoss(double Total, double Reconstruction, double Sparsity, double L0, Tensor Latents);

/// <summary>
/// A sparse autoencoder x ↦ x̂ over rows of a [batch, d_in] tensor. <see cref="Loss"/> returns the batch loss (terms
/// summed over dimensions, averaged over the batch, as in the reference) and writes its analytic gradient.
/// </summary>
public abstract class SparseAutoencoder
{
    public int DIn { get; }
    public int DSae { get; }
    public SaeParameters Parameters { get; } = new();

    protected SparseAutoencoder(int dIn, int dSae)
    {
        DIn = dIn;
        DSae = dSae;
    }

    /// <summary>Latent magnitudes m(x) [batch, d_sae]: what edits set and what weights are computed from.</summary>
    public abstract Tensor Encode(Tensor x);

    /// <summary>x̂ = m·W_dec + b_dec.</summary>
    public Tensor Decode(Tensor latents)
    {
        int batch = latents.Shape[0];
        var output = new Tensor(batch, DIn);
        for (int b = 0; b < batch; b++) Parameters["b_dec"].Span.CopyTo(output.Row(b));
        Gemm.Multiply(latents.Span, Parameters["W_dec"].Span, output.Span, batch, DIn, DSae, beta: 1f);
        return output;
    }

    /// <summary>The batch loss; when <paramref name="gradients"/> is given, ∂loss/∂parameter is written into it.</summary>
    public abstract SaeLoss Loss(Tensor x, SaeParameters? gradients);

    /// <summary>Keeps constrained parameters on their constraint after an optimiser step (e.g. unit-norm decoder rows).</summary>
    public virtual void AfterStep() { }

    /// <summary>Rows of W_dec rescaled to unit L2 norm.</summary>
    protected void NormaliseDecoderRows()
    {
        var wDec = Parameters["W_dec"];
        for (int j = 0; j < DSae; j++)
        {
            var row = wDec.Row(j);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
    }

    /// <summary>
    /// Backpropagates the reconstruction term through the decoder: given latents m and residual e = x̂ − x, adds
    /// ∂/∂W_dec and ∂/∂b_dec of mean_b ‖e‖² and returns ∂loss/∂m = (2/B)·e·W_decᵀ.
    /// </summary>
    protected Tensor DecoderBackward(Tensor latents, Tensor residual, SaeParameters gradients)
    {
        int batch = latents.Shape[0];
        var scaled = residual.Clone();
        System.Numerics.Tensors.TensorPrimitives.Multiply(scaled.Span, 2f / batch, scaled.Span);
        Gemm.Multiply(latents.Span, scaled.Span, gradients["W_dec"].Span, DSae, DIn, batch, transA: true, beta: 1f);
        for (int b = 0; b < batch; b++)
            System.Numerics.Tensors.TensorPrimitives.Add(gradients["b_dec"].Span, scaled.Row(b), gradients["b_dec"].Span);
        var dLatents = new Tensor(batch, DSae);
        Gemm.Multiply(scaled.Span, Parameters["W_dec"].Span, dLatents.Span, batch, DSae, DIn, transB: true);
        return dLatents;
    }

    /// <summary>Σ_b ‖x̂ − x‖² / B and the residual x̂ − x.</summary>
    protected static (double Loss, Tensor Residual) ReconstructionLoss(Tensor x, Tensor reconstruction)
    {
        var residual = reconstruction.Clone();
        System.Numerics.Tensors.TensorPrimitives.Subtract(residual.Span, x.Span, residual.Span);
        return (System.Numerics.Tensors.TensorPrimitives.SumOfSquares(residual.Span) / x.Shape[0], residual);
    }

    /// <summary>x − b_dec, the input every encoder projection reads; computed once per batch.</summary>
    protected Tensor Centre(Tensor x)
    {
        var centred = x.Clone();
        for (int r = 0; r < x.Shape[0]; r++)
            System.Numerics.Tensors.TensorPrimitives.Subtract(centred.Row(r), Parameters["b_dec"].Span, centred.Row(r));
        return centred;
    }

    /// <summary>centred·W + b for an encoder weight W [d_in, d_sae] and bias b [d_sae] (b may be absent).</summary>
    protected Tensor Project(Tensor centred, Tensor weight, Tensor? bias)
    {
        int batch = centred.Shape[0];
        var output = new Tensor(batch, DSae);
        if (bias is not null)
            for (int r = 0; r < batch; r++) bias.Span.CopyTo(output.Row(r));
        Gemm.Multiply(centred.Span, weight.Span, output.Span, batch, DSae, DIn, beta: 1f);
        return output;
    }

    /// <summary>
    /// Backpropagates ∂loss/∂pre through pre = (x − b_dec)·W + b: adds ∂/∂b and the encoder's share of ∂/∂b_dec, and
    /// returns ∂loss/∂W (the caller adds it where W comes from).
    /// </summary>
    protected Tensor ProjectBackward(Tensor centred, Tensor dPre, Tensor weight, string? biasName, SaeParameters gradients)
    {
        int batch = centred.Shape[0];
        var dWeight = new Tensor(DIn, DSae);
        Gemm.Multiply(centred.Span, dPre.Span, dWeight.Span, DIn, DSae, batch, transA: true);
        if (biasName is not null)
            for (int r = 0; r < batch; r++)
                System.Numerics.Tensors.TensorPrimitives.Add(gradients[biasName].Span, dPre.Row(r), gradients[biasName].Span);
        var dCentred = new Tensor(batch, DIn);
        Gemm.Multiply(dPre.Span, weight.Span, dCentred.Span, batch, DIn, DSae, transB: true);
        for (int r = 0; r < batch; r++)
            System.Numerics.Tensors.TensorPrimitives.Subtract(gradients["b_dec"].Span, dCentred.Row(r), gradients["b_dec"].Span);
        return dWeight;
    }

    protected static void AddInto(Tensor source, Tensor destination) =>
        System.Numerics.Tensors.TensorPrimitives.Add(destination.Span, source.Span, destination.Span);

    /// <summary>
    /// Kaiming-uniform decoder rows scaled to unit norm, the encoder its transpose, biases zero (the reference's init).
    /// </summary>
    /// <summary>Uniform in ±√(6 / fan_in): PyTorch's kaiming_uniform_ with the ReLU gain.</summary>
    protected static Tensor KaimingUniform(DeterministicRandom rng, int rows, int columns, int fanIn)
    {
        var t = new Tensor(rows, columns);
        double bound = Math.Sqrt(6.0 / fanIn);
        var span = t.Span;
        for (int i = 0; i < span.Length; i++) span[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
        return t;
    }

    protected void InitialiseTiedUnitNorm(DeterministicRandom rng, string encoderName)
    {
        var wDec = KaimingUniform(rng, DSae, DIn, fanIn: DIn);
        Parameters.Add("W_dec", wDec);
        Parameters.Add("b_dec", new Tensor(DIn));
        NormaliseDecoderRows();
        var wEnc = new Tensor(DIn, DSae);
        for (int j = 0; j < DSae; j++)
            for (int i = 0; i < DIn; i++) wEnc.Span[i * DSae + j] = wDec.Span[j * DIn + i];
        Parameters.Add(encoderName, wEnc);
    }
}
