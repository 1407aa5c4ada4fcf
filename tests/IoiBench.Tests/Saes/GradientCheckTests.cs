using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

/// <summary>Every analytic gradient against central finite differences of the loss, on tiny shapes.</summary>
public class GradientCheckTests
{
    private const int DIn = 5, DSae = 7, Batch = 4;

    private static Tensor RandomInput(int seed)
    {
        var rng = new DeterministicRandom((ulong)seed);
        var x = new Tensor(Batch, DIn);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)(rng.NextGaussian() * 2);
        return x;
    }

    /// <summary>Random values everywhere (biases included) so that no gradient is trivially zero.</summary>
    private static void Randomise(SparseAutoencoder sae, int seed)
    {
        var rng = new DeterministicRandom((ulong)seed, 1);
        foreach (var tensor in sae.Parameters.Tensors.Values)
            for (int i = 0; i < tensor.Length; i++) tensor.Span[i] = (float)(rng.NextGaussian() * 0.5);
    }

    /// <summary>
    /// Central differences for every parameter entry, but those whose gradient is an estimate by design
    /// (<paramref name="estimated"/>: JumpReLU's thresholds, checked by hand instead). An entry whose perturbation
    /// changes which latents are active (a ReLU kink, a top-k swap, a gate flip) has no derivative there and is
    /// skipped; at least 90% must be checked.
    /// </summary>
    private static void CheckGradients(SparseAutoencoder sae, Tensor x, params string[] estimated)
    {
        var gradients = sae.Parameters.ZerosLike();
        sae.Loss(x, gradients);
        // Which latents the training loss keeps (BatchTopK's batch selection, not its inference threshold).
        bool[] Pattern() => sae.Loss(x, null).Latents.Span.ToArray().Select(v => v != 0).ToArray();
        var pattern = Pattern();
        const float eps = 1e-3f;
        int checkedEntries = 0, total = 0;
        foreach (var (name, tensor) in sae.Parameters.Tensors.Where(p => !estimated.Contains(p.Key)))
            for (int i = 0; i < tensor.Length; i++)
            {
                total++;
                float original = tensor.Span[i];
                tensor.Span[i] = original + eps;
                double plus = sae.Loss(x, null).Total;
                bool samePlus = Pattern().SequenceEqual(pattern);
                tensor.Span[i] = original - eps;
                double minus = sae.Loss(x, null).Total;
                bool sameMinus = Pattern().SequenceEqual(pattern);
                tensor.Span[i] = original;
                if (!samePlus || !sameMinus) continue;
                checkedEntries++;
                double numeric = (plus - minus) / (2 * eps), analytic = gradients[name].Span[i];
                Assert.True(Math.Abs(numeric - analytic) <= 5e-3 + 2e-2 * Math.Abs(numeric),
                    $"{sae.GetType().Name} ∂loss/∂{name}[{i}]: analytic {analytic}, numeric {numeric}");
            }
        Assert.True(checkedEntries >= 0.9 * total, $"only {checkedEntries} of {total} entries were away from a kink");
    }

    [Fact]
    public void VanillaGradientsMatchFiniteDifferences()
    {
        var sae = new VanillaSae(DIn, DSae, l1Coefficient: 0.7f, new DeterministicRandom(1));
        Randomise(sae, 2);
        CheckGradients(sae, RandomInput(3));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GatedGradientsMatchFiniteDifferences(bool magnitudeRelu)
    {
        var sae = new GatedSae(DIn, DSae, l1Coefficient: 0.6f, new DeterministicRandom(7), magnitudeRelu);
        Randomise(sae, 8);
        // Finite differences must not move the auxiliary loss's decoder: it is behind a stop-gradient.
        sae.DetachedDecoder = (sae.Parameters["W_dec"].Clone(), sae.Parameters["b_dec"].Clone());
        CheckGradients(sae, RandomInput(9));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void TopKGradientsMatchFiniteDifferences(bool relu, bool encoderBias)
    {
        var sae = new TopKSae(DIn, DSae, k: 3, new DeterministicRandom(4), relu, encoderBias);
        Randomise(sae, 5);
        CheckGradients(sae, RandomInput(6));
    }

    [Fact]
    public void TopKAuxKGradientsMatchFiniteDifferences()
    {
        var sae = new TopKSae(DIn, DSae, k: 2, new DeterministicRandom(4)) { AuxK = 2, AuxKCoefficient = 0.5f };
        Randomise(sae, 11);
        sae.DeadLatents = [false, false, true, true, true, false, true];
        var x = RandomInput(12);
        // The auxiliary target e = x − x̂ is behind a stop-gradient: pin it for the finite differences.
        var target = x.Clone();
        System.Numerics.Tensors.TensorPrimitives.Subtract(target.Span, sae.Decode(sae.Encode(x)).Span, target.Span);
        sae.FrozenAuxTarget = target;
        CheckGradients(sae, x);
    }

    [Fact]
    public void JumpReluGradientsMatchFiniteDifferencesButTheThresholds()
    {
        var sae = new JumpReluSae(DIn, DSae, l0Coefficient: 0.3f, new DeterministicRandom(13));
        Randomise(sae, 14);
        CheckGradients(sae, RandomInput(15), "log_threshold");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void BatchTopKGradientsMatchFiniteDifferences(int auxK)
    {
        var sae = new BatchTopKSae(BatchTopKVariant.Instance, DIn, DSae, k: 3, new DeterministicRandom(16), auxK: auxK, auxKCoefficient: 0.5f);
        Randomise(sae, 17);
        var x = RandomInput(18);
        if (auxK > 0) PinAuxK(sae, x);
        CheckGradients(sae, x);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void MatryoshkaGradientsMatchFiniteDifferences(int auxK)
    {
        var sae = new BatchTopKSae(MatryoshkaVariant.Instance, DIn, DSae, k: 3, new DeterministicRandom(19), levels: [2, 5, DSae],
            auxK: auxK, auxKCoefficient: 0.5f);
        Randomise(sae, 20);
        var x = RandomInput(21);
        if (auxK > 0) PinAuxK(sae, x);
        CheckGradients(sae, x);
    }

    /// <summary>Marks latents dead and pins AuxK's target e = x − x̂ (behind a stop-gradient) for the finite differences.</summary>
    private static void PinAuxK(BatchTopKSae sae, Tensor x)
    {
        sae.DeadLatents = [true, false, true, true, false, false, true];
        var target = x.Clone();
        var latents = sae.Loss(x, null).Latents.Clone();
        System.Numerics.Tensors.TensorPrimitives.Subtract(target.Span, sae.Decode(latents).Span, target.Span);
        sae.FrozenAuxTarget = target;
    }
}

/// <summary>Losses and encodings computed by hand on one-dimensional and two-dimensional cases.</summary>
public class SaeExactValueTests
{
    /// <summary>
    /// d_in = 2, λ = 0.5: latents 0 and 1 read and write the two input axes (W_enc, W_dec identity there, every other
    /// latent zero), b_enc = (0, −1, 0, …), b_dec = (1, 0).
    /// </summary>
    internal static VanillaSae HandBuiltVanilla(int dSae)
    {
        var sae = new VanillaSae(2, dSae, 0.5f, new DeterministicRandom(0));
        var wEnc = sae.Parameters["W_enc"];
        var wDec = sae.Parameters["W_dec"];
        wEnc.Span.Clear();
        wDec.Span.Clear();
        wEnc.Row(0)[0] = 1; wEnc.Row(1)[1] = 1;
        wDec.Row(0)[0] = 1; wDec.Row(1)[1] = 1;
        sae.Parameters["b_enc"].Span[1] = -1;
        sae.Parameters["b_dec"].Span[0] = 1;
        return sae;
    }

    [Fact]
    public void VanillaLossByHand()
    {
        var sae = HandBuiltVanilla(2);
        // x = (3, 2): pre = (3 − 1, 2) + (0, −1) = (2, 1), f = (2, 1), x̂ = (3, 1): error 1, L1 3, loss 1 + 1.5.
        // x = (0, 0.5): pre = (−1, −0.5), f = 0, x̂ = (1, 0): error 1 + 0.25, L1 0.
        var loss = sae.Loss(Tensor.From([3, 2, 0, 0.5f], 2, 2), null);
        Assert.Equal((1 + 1.25) / 2, loss.Reconstruction, 6);
        Assert.Equal(3.0 / 2, loss.Sparsity, 6);
        Assert.Equal((1 + 1.25) / 2 + 0.5 * 1.5, loss.Total, 6);
        Assert.Equal(1.0, loss.L0, 6);
    }

    [Fact]
    public void TopKKeepsTheKLargestAndReluDropsNegatives()
    {
        var sae = new TopKSae(3, 3, k: 2, new DeterministicRandom(0), relu: true, encoderBias: false);
        Tensor.From([1, 0, 0, 0, 1, 0, 0, 0, 1], 3, 3).Span.CopyTo(sae.Parameters["W_enc"].Span);
        Assert.Equal([5f, 0f, 2f], sae.Encode(Tensor.From([5, 1, 2], 1, 3)).Span.ToArray());
        Assert.Equal([0f, 0f, 0f], sae.Encode(Tensor.From([-5, -1, -2], 1, 3)).Span.ToArray());
        var noRelu = new TopKSae(3, 3, k: 2, new DeterministicRandom(0), relu: false, encoderBias: false);
        Tensor.From([1, 0, 0, 0, 1, 0, 0, 0, 1], 3, 3).Span.CopyTo(noRelu.Parameters["W_enc"].Span);
        Assert.Equal([0f, -1f, -2f], noRelu.Encode(Tensor.From([-5, -1, -2], 1, 3)).Span.ToArray());
    }

    [Fact]
    public void TopKAuxiliaryLossByHand()
    {
        // Latents read e1, e2 and e1 + e2; decoder rows (1, 0), (0, 1), (1, 0). x = (3, 1): pre = (3, 1, 4), top-1 keeps
        // latent 2, x̂ = (4, 0), reconstruction ‖(1, −1)‖² = 2. Latent 1 is dead: z_aux = (0, 1, 0), ê = (0, 1),
        // e = x − x̂ = (−1, 1), ‖ê − e‖² = 1, weight 0.5·min(1/1, 1): auxiliary 0.5.
        var sae = new TopKSae(2, 3, k: 1, new DeterministicRandom(0), relu: true, encoderBias: false) { AuxK = 1, AuxKCoefficient = 0.5f };
        Tensor.From([1, 0, 1, 0, 1, 1], 2, 3).Span.CopyTo(sae.Parameters["W_enc"].Span);
        Tensor.From([1, 0, 0, 1, 1, 0], 3, 2).Span.CopyTo(sae.Parameters["W_dec"].Span);
        sae.DeadLatents = [false, true, false];
        var loss = sae.Loss(Tensor.From([3, 1], 1, 2), null);
        Assert.Equal(2.0, loss.Reconstruction, 6);
        Assert.Equal(2.5, loss.Total, 6);
        sae.DeadLatents = [false, false, false];
        Assert.Equal(2.0, sae.Loss(Tensor.From([3, 1], 1, 2), null).Total, 6);
    }

    [Fact]
    public void InitialDecoderRowsHaveUnitNormAndTheEncoderIsTheirTranspose()
    {
        var sae = new VanillaSae(4, 6, 1f, new DeterministicRandom(9));
        for (int j = 0; j < 6; j++)
        {
            Approx.Equal(1.0, System.Numerics.Tensors.TensorPrimitives.Norm(sae.Parameters["W_dec"].Row(j)), 1e-6);
            for (int i = 0; i < 4; i++) Assert.Equal(sae.Parameters["W_dec"].Row(j)[i], sae.Parameters["W_enc"].Row(i)[j]);
        }
    }
}
