using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

/// <summary>BatchTopK's batch-wide selection, Matryoshka's nested losses and the inference threshold, by hand.</summary>
public class BatchTopKTests
{
    [Theory]
    [InlineData(3, new[] { 0, 2, 2, 0, 0, 3f })]
    [InlineData(2, new[] { 0, 2, 0, 0, 0, 3f })]     // of the tied 2s, the lower index stays
    [InlineData(5, new[] { 0.5f, 2, 2, 1, 0, 3 })]
    [InlineData(6, new[] { 0.5f, 2, 2, 1, 0, 3 })]
    public void TheLargestStayTiesToTheLowerIndex(int count, float[] expected)
    {
        float[] values = [0.5f, 2, 2, 1, 0, 3];
        BatchSelection.KeepLargest(values, count);
        Assert.Equal(expected, values);
    }

    [Fact]
    public void TheSelectionKeepsWhatASortKeeps()
    {
        var rng = new DeterministicRandom(3);
        // Few distinct values: many ties, and values that share their high bytes.
        var values = Enumerable.Range(0, 5000).Select(_ => rng.NextDouble() < 0.3 ? 0f : (float)Math.Round(rng.NextDouble() * 40) / 8).ToArray();
        foreach (int count in new[] { 1, 17, 1000, 3499, 4999 })
        {
            var kept = values.ToArray();
            BatchSelection.KeepLargest(kept, count);
            var expected = new float[values.Length];
            foreach (int i in Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(count)) expected[i] = values[i];
            Assert.Equal(expected, kept);
        }
    }

    /// <summary>
    /// d_in = d_sae = 2 with identity encoder and decoder and zero biases: x = (1, 2) gives pre = (1, 2). Levels [1, 2]:
    /// level 1 reads latent 0, level 2 both.
    /// </summary>
    private static BatchTopKSae Identity(int k, IReadOnlyList<int>? levels)
    {
        var sae = new BatchTopKSae(levels is null ? BatchTopKVariant.Instance : MatryoshkaVariant.Instance, 2, 2, k, new DeterministicRandom(0), levels);
        Tensor.From([1, 0, 0, 1], 2, 2).Span.CopyTo(sae.Parameters["W_enc"].Span);
        Tensor.From([1, 0, 0, 1], 2, 2).Span.CopyTo(sae.Parameters["W_dec"].Span);
        return sae;
    }

    [Fact]
    public void MatryoshkaSumsEveryLevelsReconstructionByHand()
    {
        var x = Tensor.From([1, 2], 1, 2);
        // k = 2 keeps both: level 1 reconstructs (1, 0), error 4; level 2 reconstructs x exactly.
        var both = Identity(2, [1, 2]).Loss(x, null);
        Assert.Equal((4.0, 0.0, 2.0), (both.Total, both.Reconstruction, both.L0));
        // k = 1 keeps latent 1 (value 2): level 1 reconstructs (0, 0), error 1 + 4; level 2 (0, 2), error 1.
        var one = Identity(1, [1, 2]).Loss(x, null);
        Assert.Equal((6.0, 1.0, 1.0), (one.Total, one.Reconstruction, one.L0));
        // BatchTopK is the single level: only the full reconstruction counts.
        var batchTopK = Identity(1, null).Loss(x, null);
        Assert.Equal((1.0, 1.0), (batchTopK.Total, batchTopK.Reconstruction));
    }

    [Fact]
    public void TheSelectionIsOverTheWholeBatchNotEachRow()
    {
        // k = 1 over 2 rows keeps the 2 largest of the batch: both in row 0.
        var loss = Identity(1, null).Loss(Tensor.From([3, 2, 1, 0.5f], 2, 2), null);
        Assert.Equal([3f, 2, 0, 0], loss.Latents.Span.ToArray());
        Assert.Equal(1.0, loss.L0);
    }

    [Fact]
    public void TheInferenceThresholdIsTheMeanOfEachBatchsSmallestKeptValue()
    {
        var sae = Identity(1, null);
        // Batches of one row, k = 1: each keeps its largest, 2 and 3.
        sae.PrepareForInference(Tensor.From([1, 2, 3, 0.5f], 2, 2), batchSize: 1);
        Assert.Equal(2.5f, sae.Threshold);
        Assert.Equal([2.6f, 0, 0, 0], sae.Encode(Tensor.From([2.6f, 1, 2.5f, 0.1f], 2, 2)).Span.ToArray());
    }
}
