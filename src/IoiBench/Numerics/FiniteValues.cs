using System.Runtime.Intrinsics;

namespace IoiBench.Numerics;

/// <summary>Finds NaN and ±∞: what IoiBench refuses in model weights, SAE files and cached activations.</summary>
public static class FiniteValues
{
    /// <summary>The index of the first NaN or infinity, or null when every value is finite.</summary>
    public static int? FirstNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        // x − x is 0 exactly when x is finite (NaN and ±∞ give NaN).
        for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.Create(values.Slice(i, Vector256<float>.Count));
            if (Vector256.EqualsAll(v - v, Vector256<float>.Zero)) continue;
            for (int j = i; j < i + Vector256<float>.Count; j++) if (!float.IsFinite(values[j])) return j;
        }
        for (; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return null;
    }
}
