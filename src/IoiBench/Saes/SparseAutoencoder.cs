using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// The loss of one batch, its parts, the batch's sparsity, and the latent magnitudes it was computed from. From
/// <see cref="SparseAutoencoder.Loss"/>, <see cref="Latents"/> is the SAE's working buffer: read it before the next call.
/// </summary>
public sealed record SaeLoss(double Total, double Reconstruction, double Sparsity, double L0, Tensor Latents);

/// <summary>
/// A sparse autoencoder x ↦ x̂ over rows of a [batch, d_in] tensor. <see cref="Loss"/> returns the batch loss (terms
/// summed over dimensions, averaged over the batch, as in the reference) and writes its analytic gradient. Training
/// calls Loss thousands of times on equal-sized batches, so its intermediates live in buffers reused across calls
/// (one SAE instance is trained by one thread at a time); <see cref="Encode"/> and <see cref="Decode"/> allocate.
/// </summary>
public abstract class SparseAutoencoder
{
    private readonly Dictionary<(string, int), Tensor> _scratch = new();

    public int DIn { get; }
    public int DSae { get; }

    /// <summary>The trained tensors (what Adam updates and a training state saves).</summary>
    public SaeParameters Parameters { get; } = new();

    /// <summary>Tensors the SAE keeps but does not train (e.g. an inference threshold); files store them beside the parameters.</summary>
    public Dictionary<string, Tensor> Buffers { get; } = new(StringComparer.Ordinal);

    /// <summary>The registry entry of the SAE's architecture.</summary>
    public abstract SaeVariant Variant { get; }

    /// <summary>The coefficient of the sparsity term (λ), or 0 for variants without one (top-k).</summary>
    public virtual float SparsityCoefficient => 0f;

    protected SparseAutoencoder(int dIn, int dSae)
    {
        DIn = dIn;
        DSae = dSae;
    }

    /// <summary>Latent magnitudes m(x) [batch, d_sae]: what edits set and what weights are computed from.</summary>
    public abstract Tensor Encode(Tensor x);

    /// <summary>x̂ = m·W_dec + b_dec.</summary>
    public Tensor Decode(Tensor latents) => Decode(latents, new Tensor(latents.Shape[0], DIn));

    /// <summary>The batch loss; when <paramref name="gradients"/> is given, ∂loss/∂parameter is added into it.</summary>
    public abstract SaeLoss Loss(Tensor x, SaeParameters? gradients);

    /// <summary>Keeps constrained parameters on their constraint after an optimiser step (e.g. unit-norm decoder rows).</summary>
    public virtual void AfterStep() { }

    /// <summary>
    /// Sets what inference needs beyond the trained parameters, from the training data (BatchTopK's threshold), before
    /// the SAE is saved or scored; most variants need nothing.
    /// </summary>
    public virtual void PrepareForInference(Tensor data, int batchSize) { }

    /// <summary>A working buffer of Loss, reused for every batch of this size; its contents are stale.</summary>
    protected Tensor Scratch(string name, int rows, int columns)
    {
        if (!_scratch.TryGetValue((name, rows), out var buffer))
            _scratch[(name, rows)] = buffer = new Tensor(rows, columns);
        return buffer;
    }

    /// <summary>output = latents·W (+ bias rows): the decoder when W = W_dec, b = b_dec.</summary>
    protected Tensor Decode(Tensor latents, Tensor output, Tensor? weight = null, Tensor? bias = null)
    {
        int batch = latents.Shape[0];
        FillRows(output, (bias ?? Parameters["b_dec"]).Span);
        Gemm.Multiply(latents.Span, (weight ?? Parameters["W_dec"]).Span, output.Span, batch, DIn, DSae, beta: 1f);
        return output;
    }

    /// <summary>Rows of W_dec rescaled to unit L2 norm.</summary>
    protected void NormaliseDecoderRows()
    {
        var wDec = Parameters["W_dec"];
        for (int j = 0; j < DSae; j++)
        {
            var row = wDec.Row(j);
            float norm = TensorPrimitives.Norm(row);
            if (norm > 0) TensorPrimitives.Divide(row, norm, row);
        }
    }

    /// <summary>
    /// Σ_b ‖x̂ − x‖² / B, turning <paramref name="reconstruction"/> into the residual x̂ − x in place.
    /// </summary>
    protected static double ReconstructionLoss(Tensor x, Tensor reconstruction)
    {
        TensorPrimitives.Subtract(reconstruction.Span, x.Span, reconstruction.Span);
        return TensorPrimitives.SumOfSquares(reconstruction.Span) / x.Shape[0];
    }

    /// <summary>
    /// Backpropagates the reconstruction term through the decoder: given latents m and residual e = x̂ − x (scaled in
    /// place to 2e/B), adds ∂/∂W_dec and ∂/∂b_dec of mean_b ‖e‖² and returns ∂loss/∂m = (2/B)·e·W_decᵀ.
    /// </summary>
    protected Tensor DecoderBackward(Tensor latents, Tensor residual, SaeParameters gradients)
    {
        int batch = latents.Shape[0];
        TensorPrimitives.Multiply(residual.Span, 2f / batch, residual.Span);
        Gemm.Multiply(latents.Span, residual.Span, gradients["W_dec"].Span, DSae, DIn, batch, transA: true, beta: 1f);
        AddRowSums(residual, gradients["b_dec"].Span);
        var dLatents = Scratch("dLatents", batch, DSae);
        Gemm.Multiply(residual.Span, Parameters["W_dec"].Span, dLatents.Span, batch, DSae, DIn, transB: true);
        return dLatents;
    }

    /// <summary>x − b_dec, the input every encoder projection reads; computed once per batch.</summary>
    protected Tensor Centre(Tensor x, Tensor output)
    {
        var bDec = Parameters["b_dec"].Span;
        for (int r = 0; r < x.Shape[0]; r++) TensorPrimitives.Subtract(x.Row(r), bDec, output.Row(r));
        return output;
    }

    /// <summary>output = centred·W + b for an encoder weight W [d_in, d_sae] and bias b [d_sae] (b may be absent).</summary>
    protected Tensor Project(Tensor centred, Tensor weight, Tensor? bias, Tensor output)
    {
        int batch = centred.Shape[0];
        if (bias is null) output.Span.Clear();
        else FillRows(output, bias.Span);
        Gemm.Multiply(centred.Span, weight.Span, output.Span, batch, DSae, DIn, beta: 1f);
        return output;
    }

    /// <summary>
    /// Backpropagates ∂loss/∂pre through pre = (x − b_dec)·W + b: adds ∂/∂W into <paramref name="dWeight"/>, ∂/∂b into
    /// the gradient named <paramref name="biasName"/>, and the encoder's share into ∂/∂b_dec.
    /// </summary>
    protected void ProjectBackward(Tensor centred, Tensor dPre, Tensor weight, Tensor dWeight, string? biasName, SaeParameters gradients)
    {
        int batch = centred.Shape[0];
        Gemm.Multiply(centred.Span, dPre.Span, dWeight.Span, DIn, DSae, batch, transA: true, beta: 1f);
        if (biasName is not null) AddRowSums(dPre, gradients[biasName].Span);
        var dCentred = Scratch("dCentred", batch, DIn);
        Gemm.Multiply(dPre.Span, weight.Span, dCentred.Span, batch, DIn, DSae, transB: true);
        var bDecGradient = gradients["b_dec"].Span;
        for (int r = 0; r < batch; r++) TensorPrimitives.Subtract(bDecGradient, dCentred.Row(r), bDecGradient);
    }

    private static void FillRows(Tensor output, ReadOnlySpan<float> row)
    {
        for (int r = 0; r < output.Shape[0]; r++) row.CopyTo(output.Row(r));
    }

    private static void AddRowSums(Tensor rows, Span<float> destination)
    {
        for (int r = 0; r < rows.Shape[0]; r++) TensorPrimitives.Add(destination, rows.Row(r), destination);
    }

    /// <summary>Uniform in ±√(6 / fan_in): PyTorch's kaiming_uniform_ with the ReLU gain.</summary>
    protected static Tensor KaimingUniform(DeterministicRandom rng, int rows, int columns, int fanIn)
    {
        var t = new Tensor(rows, columns);
        double bound = Math.Sqrt(6.0 / fanIn);
        var span = t.Span;
        for (int i = 0; i < span.Length; i++) span[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
        return t;
    }

    /// <summary>
    /// A Kaiming-uniform encoder W_enc [d_in, d_sae] (PyTorch's fan-in of that shape: d_sae), the decoder its transpose,
    /// b_dec zero: the reference's top-k init.
    /// </summary>
    protected void InitialiseFromEncoder(DeterministicRandom rng)
    {
        var wEnc = KaimingUniform(rng, DIn, DSae, fanIn: DSae);
        var wDec = new Tensor(DSae, DIn);
        for (int i = 0; i < DIn; i++)
            for (int j = 0; j < DSae; j++) wDec.Span[j * DIn + i] = wEnc.Span[i * DSae + j];
        Parameters.Add("W_dec", wDec);
        Parameters.Add("b_dec", new Tensor(DIn));
        Parameters.Add("W_enc", wEnc);
    }

    /// <summary>
    /// Kaiming-uniform decoder rows scaled to unit norm, the encoder its transpose, b_dec zero (the reference's vanilla init).
    /// </summary>
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
