using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>Per-row top-k selection: what top-k SAEs keep, and what the AuxK term keeps among the dead latents.</summary>
internal static class TopKSelection
{
    /// <summary>
    /// Writes into <paramref name="z"/> each row's k largest values of <paramref name="pre"/> (ties to the lower index),
    /// among the latents marked in <paramref name="among"/> when given, then ReLU'd if <paramref name="relu"/>; the rest
    /// are 0. A sorted list of the best k so far makes this one pass over the row for the small k that SAEs use.
    /// </summary>
    public static Tensor Rows(Tensor pre, Tensor z, int k, bool[]? among, bool relu)
    {
        int batch = pre.Shape[0], width = pre.Shape[1];
        z.Span.Clear();
        Span<int> best = k <= 256 ? stackalloc int[k] : new int[k];
        for (int b = 0; b < batch; b++)
        {
            var row = pre.Row(b);
            int count = 0;
            for (int j = 0; j < width; j++)
            {
                if (among is not null && !among[j]) continue;
                float value = row[j];
                // Strictly greater: an equal later value never displaces an earlier one.
                if (count == k && !(value > row[best[k - 1]])) continue;
                int slot = count < k ? count++ : k - 1;
                while (slot > 0 && value > row[best[slot - 1]])
                {
                    best[slot] = best[slot - 1];
                    slot--;
                }
                best[slot] = j;
            }
            var output = z.Row(b);
            for (int i = 0; i < count; i++)
            {
                float value = row[best[i]];
                output[best[i]] = relu ? Math.Max(value, 0f) : value;
            }
        }
        return z;
    }
}
