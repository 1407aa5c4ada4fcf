using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Top-k SAE (Gao et al. 2024): z = ReLU(TopK_k((x − b_dec)·W_enc + b_enc)), x̂ = z·W_dec + b_dec, loss = mean_b ‖x̂ − x‖².
/// Options reproduce the reference's variant: no ReLU after the top-k (negative values can be kept) and no encoder bias.
/// </summary>
public sealed class TopKSae : SparseAutoencoder
{
    public int K { get; }
    public bool Relu { get; }
    public bool EncoderBias { get; }

    public TopKSae(int dIn, int dSae, int k, DeterministicRandom rng, bool relu = true, bool encoderBias = true) : base(dIn, dSae)
    {
        if (k < 1 || k > dSae) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} must be in 1…{dSae}.");
        K = k;
        Relu = relu;
        EncoderBias = encoderBias;
        InitialiseTiedUnitNorm(rng, "W_enc");
        if (encoderBias) Parameters.Add("b_enc", new Tensor(dSae));
    }

    public override Tensor Encode(Tensor x) => Latents(Centre(x));

    private Tensor Latents(Tensor centred) => Select(Project(centred, Parameters["W_enc"], EncoderBias ? Parameters["b_enc"] : null));

    /// <summary>Keeps each row's k largest pre-activations (ties to the lower index), then ReLU if enabled.</summary>
    private Tensor Select(Tensor pre)
    {
        int batch = pre.Shape[0];
        var z = new Tensor(batch, DSae);
        var order = new int[DSae];
        for (int b = 0; b < batch; b++)
        {
            var row = pre.Row(b).ToArray();
            for (int j = 0; j < DSae; j++) order[j] = j;
            Array.Sort(order, (p, q) => row[q] != row[p] ? row[q].CompareTo(row[p]) : p.CompareTo(q));
            var output = z.Row(b);
            for (int i = 0; i < K; i++)
            {
                float value = row[order[i]];
                output[order[i]] = Relu ? Math.Max(value, 0f) : value;
            }
        }
        return z;
    }

    public override SaeLoss Loss(Tensor x, SaeParameters? gradients)
    {
        int batch = x.Shape[0];
        var centred = Centre(x);
        var z = Latents(centred);
        var (reconstruction, residual) = ReconstructionLoss(x, Decode(z));
        double l0 = z.Span.ToArray().Count(v => v != 0) / (double)batch;
        if (gradients is not null)
        {
            var dZ = DecoderBackward(z, residual, gradients);
            // Gradient flows only through the kept (and, with ReLU, positive) entries.
            var dSpan = dZ.Span;
            var zSpan = z.Span;
            for (int i = 0; i < dSpan.Length; i++) if (zSpan[i] == 0) dSpan[i] = 0;
            AddInto(ProjectBackward(centred, dZ, Parameters["W_enc"], EncoderBias ? "b_enc" : null, gradients), gradients["W_enc"]);
        }
        return new SaeLoss(reconstruction, reconstruction, 0, l0, z);
    }

    /// <summary>Unit-norm decoder rows keep latent magnitudes comparable (the reference's variant leaves them free).</summary>
    public bool NormaliseDecoder { get; init; } = true;

    public override void AfterStep()
    {
        if (NormaliseDecoder) NormaliseDecoderRows();
    }
}
