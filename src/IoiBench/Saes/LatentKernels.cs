using System.Numerics;
using System.Runtime.Intrinsics;

namespace IoiBench.Saes;

/// <summary>
/// Element-wise passes over [batch, d_sae] latents written without branches: about half of a fresh SAE's latents are
/// active, so a data-dependent branch per element mispredicts constantly and costs more than the matrix products.
/// </summary>
internal static class LatentKernels
{
    /// <summary>How many entries are &gt; 0.</summary>
    public static int CountPositive(ReadOnlySpan<float> values)
    {
        int count = 0, i = 0;
        for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var mask = Vector256.GreaterThan(Vector256.Create(values.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
            count += BitOperations.PopCount(mask.ExtractMostSignificantBits());
        }
        for (; i < values.Length; i++) count += values[i] > 0 ? 1 : 0;
        return count;
    }

    /// <summary>How many entries are ≠ 0.</summary>
    public static int CountNonZero(ReadOnlySpan<float> values)
    {
        int count = 0, i = 0;
        for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var mask = Vector256.Equals(Vector256.Create(values.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
            count += Vector256<float>.Count - BitOperations.PopCount(mask.ExtractMostSignificantBits());
        }
        for (; i < values.Length; i++) count += values[i] != 0 ? 1 : 0;
        return count;
    }

    /// <summary>gradient[i] = active[i] &gt; 0 ? gradient[i] + add : 0 (the backward pass of ReLU plus an L1 term).</summary>
    public static void KeepWherePositive(Span<float> gradient, ReadOnlySpan<float> active, float add = 0f)
    {
        var addVector = Vector256.Create(add);
        int i = 0;
        for (; i <= gradient.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var mask = Vector256.GreaterThan(Vector256.Create(active.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
            var kept = Vector256.ConditionalSelect(mask, Vector256.Create(gradient.Slice(i, Vector256<float>.Count)) + addVector, Vector256<float>.Zero);
            kept.CopyTo(gradient.Slice(i, Vector256<float>.Count));
        }
        for (; i < gradient.Length; i++) gradient[i] = active[i] > 0 ? gradient[i] + add : 0f;
    }

    /// <summary>gradient[i] = kept[i] ≠ 0 ? gradient[i] : 0.</summary>
    public static void KeepWhereNonZero(Span<float> gradient, ReadOnlySpan<float> kept)
    {
        int i = 0;
        for (; i <= gradient.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var zero = Vector256.Equals(Vector256.Create(kept.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
            Vector256.ConditionalSelect(zero, Vector256<float>.Zero, Vector256.Create(gradient.Slice(i, Vector256<float>.Count)))
                .CopyTo(gradient.Slice(i, Vector256<float>.Count));
        }
        for (; i < gradient.Length; i++) if (kept[i] == 0) gradient[i] = 0;
    }

    /// <summary>latents[i] = gate[i] &gt; 0 ? (relu ? max(magnitude[i], 0) : magnitude[i]) : 0 (a gated SAE's f̃).</summary>
    public static void Gate(ReadOnlySpan<float> gate, ReadOnlySpan<float> magnitude, Span<float> latents, bool relu)
    {
        var floor = relu ? Vector256<float>.Zero : Vector256.Create(float.NegativeInfinity);
        int i = 0;
        for (; i <= latents.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var open = Vector256.GreaterThan(Vector256.Create(gate.Slice(i, Vector256<float>.Count)), Vector256<float>.Zero);
            var value = Vector256.Max(Vector256.Create(magnitude.Slice(i, Vector256<float>.Count)), floor);
            Vector256.ConditionalSelect(open, value, Vector256<float>.Zero).CopyTo(latents.Slice(i, Vector256<float>.Count));
        }
        for (; i < latents.Length; i++) latents[i] = gate[i] > 0 ? (relu ? Math.Max(magnitude[i], 0f) : magnitude[i]) : 0f;
    }
}
