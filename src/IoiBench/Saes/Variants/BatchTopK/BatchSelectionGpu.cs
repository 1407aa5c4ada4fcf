using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// <see cref="BatchSelection"/> on the GPU for G SAEs at once (batchtopk.cu): each SAE keeps the k·rows largest of its
/// [rows, d_sae] values (non-negative), ties to the lower flat index, and the rest become 0; the kept nonzero values are
/// counted into the L0 stats slot and marked fired.
/// </summary>
internal sealed class BatchSelectionGpu
{
    private const int HistogramBlocks = 16;

    private readonly int _saes, _width;
    private readonly DeviceArray<int> _histogram, _ties;
    private readonly DeviceArray<uint> _prefix;
    private readonly DeviceArray<long> _remaining;

    /// <summary>Working memory for up to <paramref name="maxRows"/> rows, from allocators that own it.</summary>
    public BatchSelectionGpu(int saes, int maxRows, int width, Func<long, DeviceArray<int>> allocateInts,
        Func<long, DeviceArray<uint>> allocateUints, Func<long, DeviceArray<long>> allocateLongs)
    {
        (_saes, _width) = (saes, width);
        _histogram = allocateInts(256L * saes);
        _ties = allocateInts((long)saes * maxRows);
        _prefix = allocateUints(saes);
        _remaining = allocateLongs(saes);
    }

    /// <summary>Selects in place in <paramref name="values"/> [G, rows, d_sae], each SAE keeping ks[g]·rows.</summary>
    public void Select(CudaModule kernels, ulong values, ulong ks, int rows, ulong stats, ulong fired)
    {
        int saeBlocks = (_saes + 255) / 256;
        long rowBlocks = ((long)_saes * rows * 32 + 255) / 256;
        kernels.Launch("batchtopk_start", saeBlocks, 256, ks, _prefix.Pointer, _remaining.Pointer, _histogram.Pointer, rows, _width, _saes);
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            kernels.Launch("batchtopk_histogram", (long)_saes * HistogramBlocks, 256, values, _prefix.Pointer, shift, _histogram.Pointer,
                (long)rows * _width, HistogramBlocks);
            kernels.Launch("batchtopk_pick", saeBlocks, 256, _histogram.Pointer, _prefix.Pointer, _remaining.Pointer, shift, _saes);
        }
        kernels.Launch("batchtopk_ties", rowBlocks, 256, values, _prefix.Pointer, _ties.Pointer, rows, _width, _saes);
        kernels.Launch("batchtopk_select", rowBlocks, 256, values, _prefix.Pointer, _remaining.Pointer, _ties.Pointer, stats, fired, rows, _width, _saes);
    }
}
