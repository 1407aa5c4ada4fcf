namespace IoiBench.Saes;

/// <summary>
/// BatchTopK's selection: of a whole batch's non-negative latent values, the <c>count</c> largest are kept (ties to the
/// lower flat index, row-major) and the rest set to 0. A radix select on the floats' bits, which order non-negative
/// floats as unsigned integers do: four passes of 256-bin histograms, one byte at a time from the top, find the
/// count-th largest value T and how many values equal to T are kept; the GPU's kernels (batchtopk.cu) do the same.
/// </summary>
internal static class BatchSelection
{
    /// <summary>Keeps the <paramref name="count"/> largest of <paramref name="values"/> (each ≥ +0) and zeroes the rest.</summary>
    public static void KeepLargest(Span<float> values, long count)
    {
        if (count >= values.Length) return;
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(values);
        var (threshold, ties) = Threshold(bits, count);
        for (int i = 0; i < bits.Length; i++)
        {
            uint u = bits[i];
            if (u > threshold) continue;
            if (u == threshold && ties > 0)
            {
                ties--;
                continue;
            }
            bits[i] = 0;
        }
    }

    /// <summary>The count-th largest value's bits T and how many values equal to T are among the count largest.</summary>
    internal static (uint Threshold, long Ties) Threshold(ReadOnlySpan<uint> bits, long count)
    {
        uint prefix = 0, mask = 0;
        long remaining = count;
        Span<long> histogram = stackalloc long[256];
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            histogram.Clear();
            foreach (uint u in bits)
                if ((u & mask) == prefix) histogram[(int)((u >> shift) & 255)]++;
            int digit = 255;
            while (histogram[digit] < remaining) remaining -= histogram[digit--];
            prefix |= (uint)digit << shift;
            mask |= 255u << shift;
        }
        return (prefix, remaining);
    }
}
