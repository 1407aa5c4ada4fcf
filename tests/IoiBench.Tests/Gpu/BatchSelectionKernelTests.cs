using IoiBench.Cuda;
using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Gpu;

/// <summary>BatchTopK's GPU selection (batchtopk.cu) against its CPU reference, on the same values: identical results.</summary>
public class BatchSelectionKernelTests
{
    /// <summary>
    /// Three SAEs of [rows, width] values with many exact ties (a few distinct values, zeros among them) and values that
    /// share their high bytes, each keeping its own k·rows: the kept values, the L0 counts and the fired latents must be
    /// exactly the CPU's.
    /// </summary>
    [GpuTheory]
    [InlineData(37, 50, new[] { 1, 3, 50 })]
    [InlineData(128, 64, new[] { 3, 4, 8 })]
    public void TheGpuKeepsExactlyWhatTheCpuKeeps(int rows, int width, int[] ks)
    {
        int saes = ks.Length;
        long perSae = (long)rows * width;
        var rng = new DeterministicRandom(5);
        var values = Enumerable.Range(0, (int)(saes * perSae)).Select(_ => rng.NextDouble() < 0.4 ? 0f
            : rng.NextDouble() < 0.5 ? (float)Math.Round(rng.NextDouble() * 16) / 4 : 1f + (float)rng.NextDouble() * 1e-5f).ToArray();

        var device = CudaDevice.Open();
        var kernels = device.Module([BatchedSaeTrainer.CommonKernels, .. BatchTopKVariant.Instance.KernelFiles], "LATENT_SLOTS=2");
        var allocations = new List<IDisposable>();
        DeviceArray<T> Allocate<T>(long length) where T : unmanaged
        {
            var array = new DeviceArray<T>(length);
            allocations.Add(array);
            return array;
        }
        try
        {
            var deviceValues = Allocate<float>(values.Length);
            deviceValues.Upload(values);
            var deviceKs = Allocate<int>(saes);
            deviceKs.Upload(ks);
            var stats = Allocate<float>(4L * saes * rows);
            var fired = Allocate<int>((long)saes * width);
            stats.Clear();
            fired.Clear();
            new BatchSelectionGpu(saes, rows, width, Allocate<int>, Allocate<uint>, Allocate<long>)
                .Select(kernels, deviceValues.Pointer, deviceKs.Pointer, rows, stats.Pointer, fired.Pointer);
            var kept = deviceValues.Download();
            var l0 = stats.Download();
            var firedOnGpu = fired.Download();

            for (int g = 0; g < saes; g++)
            {
                var expected = values.AsSpan((int)(g * perSae), (int)perSae).ToArray();
                BatchSelection.KeepLargest(expected, (long)ks[g] * rows);
                Assert.Equal(expected, kept.AsSpan((int)(g * perSae), (int)perSae).ToArray());
                for (int r = 0; r < rows; r++)
                    Assert.Equal(expected.AsSpan(r * width, width).ToArray().Count(v => v != 0), l0[(1L * saes + g) * rows + r]);   // the L0 slot
                for (int j = 0; j < width; j++)
                    Assert.Equal(Enumerable.Range(0, rows).Any(r => expected[r * width + j] != 0), firedOnGpu[g * width + j] != 0);
            }
        }
        finally
        {
            foreach (var allocation in allocations) allocation.Dispose();
        }
    }
}
