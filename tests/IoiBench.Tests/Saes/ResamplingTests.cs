using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

public class ResamplingTests
{
    private static Tensor RandomData(int n, int d, int seed)
    {
        var rng = new DeterministicRandom((ulong)seed);
        var x = new Tensor(n, d);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)rng.NextGaussian();
        return x;
    }

    /// <summary>One Adam step on random gradients, so that every moment is non-zero before resampling.</summary>
    private static Adam WarmOptimizer(SparseAutoencoder sae)
    {
        var adam = new Adam(sae.Parameters);
        var gradients = sae.Parameters.ZerosLike();
        var rng = new DeterministicRandom(99);
        foreach (var g in gradients.Tensors.Values)
            for (int i = 0; i < g.Length; i++) g.Span[i] = (float)rng.NextGaussian();
        adam.Step(gradients, 1e-3f);
        return adam;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnlyDeadLatentsAndTheirOptimiserStateChange(bool gated)
    {
        SparseAutoencoder sae = gated ? new GatedSae(4, 6, 1f, new DeterministicRandom(1)) : new VanillaSae(4, 6, 1f, new DeterministicRandom(1));
        string encoder = gated ? "W_gate" : "W_enc";
        string[] biases = gated ? ["b_gate", "b_mag", "r_mag"] : ["b_enc"];
        foreach (var t in sae.Parameters.Tensors.Values)
            for (int i = 0; i < t.Length; i++) t.Span[i] += 0.1f * (i % 5 + 1);   // non-zero biases everywhere
        var adam = WarmOptimizer(sae);
        var before = sae.Parameters.Tensors.ToDictionary(p => p.Key, p => p.Value.Span.ToArray());
        var momentsBefore = sae.Parameters.Tensors.Keys.ToDictionary(k => k, k => adam.Moments(k).First.Span.ToArray());
        int[] dead = [1, 4];
        var data = RandomData(50, 4, 2);

        // c: mean over input rows of the encoder row's norm over alive latents, computed here independently.
        double c = 0;
        for (int i = 0; i < 4; i++)
            c += Math.Sqrt(new[] { 0, 2, 3, 5 }.Sum(j => Math.Pow(before[encoder][i * 6 + j], 2))) / 4;

        DeadLatentResampler.Resample(sae, adam, data, dead, new DeterministicRandom(3));
        Assert.Equal(1, adam.Steps);

        for (int j = 0; j < 6; j++)
        {
            bool isDead = dead.Contains(j);
            var decoderRow = sae.Parameters["W_dec"].Row(j).ToArray();
            if (!isDead)
            {
                Assert.Equal(before["W_dec"].AsSpan(j * 4, 4).ToArray(), decoderRow);
                for (int i = 0; i < 4; i++) Assert.Equal(before[encoder][i * 6 + j], sae.Parameters[encoder].Row(i)[j]);
                foreach (string b in biases) Assert.Equal(before[b][j], sae.Parameters[b].Span[j]);
                Assert.NotEqual(0f, adam.Moments("W_dec").First.Row(j)[0]);
                continue;
            }
            Approx.Equal(1.0, System.Numerics.Tensors.TensorPrimitives.Norm(decoderRow), 1e-6);
            Assert.Contains(Enumerable.Range(0, 50), p => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(data.Row(p), decoderRow) > 0.99999f);
            for (int i = 0; i < 4; i++)
            {
                Approx.Equal(decoderRow[i] * 0.2 * c, sae.Parameters[encoder].Row(i)[j], 1e-5);
                Assert.Equal(0f, adam.Moments(encoder).First.Row(i)[j]);
                Assert.Equal(0f, adam.Moments(encoder).Second.Row(i)[j]);
            }
            foreach (string b in biases)
            {
                Assert.Equal(0f, sae.Parameters[b].Span[j]);
                Assert.Equal(0f, adam.Moments(b).First.Span[j]);
            }
            Assert.All(adam.Moments("W_dec").First.Row(j).ToArray(), m => Assert.Equal(0f, m));
        }
        Assert.Equal(momentsBefore["b_dec"], adam.Moments("b_dec").First.Span.ToArray());
    }

    [Fact]
    public void VanillaExampleLossesByHand()
    {
        var sae = SaeExactValueTests.HandBuiltVanilla(2);
        // The two examples of SaeExactValueTests: squared errors 1 and 1.25, L1 3 and 0.
        var losses = VanillaVariant.Instance.Resampling.ExampleLosses(sae, Tensor.From([3, 2, 0, 0.5f], 2, 2));
        Assert.Equal([2.5, 1.25], losses);
    }

    [Fact]
    public void ExamplesAreDrawnInProportionToTheirSquaredLoss()
    {
        var sae = SaeExactValueTests.HandBuiltVanilla(400);
        var data = Tensor.From([3, 2, 0, 0.5f], 2, 2);   // losses 2.5 and 1.25 → probabilities 0.8 and 0.2
        var dead = Enumerable.Range(2, 398).ToArray();
        DeadLatentResampler.Resample(sae, new Adam(sae.Parameters), data, dead, new DeterministicRandom(5));
        double first = dead.Count(j => sae.Parameters["W_dec"].Row(j)[0] > 0.5f) / (double)dead.Length; // (3,2)/‖·‖ = (0.83, 0.55) vs (0, 1)
        Assert.InRange(first, 0.72, 0.88);
    }
}
