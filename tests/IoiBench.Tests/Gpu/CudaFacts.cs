using IoiBench.Cuda;

namespace IoiBench.Tests.Gpu;

/// <summary>A test that needs NVRTC; skipped, with the reason shown, where the library is not installed.</summary>
public sealed class NvrtcFactAttribute : FactAttribute
{
    public NvrtcFactAttribute()
    {
        if (Nvrtc.LibraryName is null) Skip = "NVRTC is not installed (Debian: libnvrtc11.2 from non-free; or the CUDA toolkit)";
    }
}

/// <summary>A <see cref="NvrtcFactAttribute"/> with data rows.</summary>
public sealed class NvrtcTheoryAttribute : TheoryAttribute
{
    public NvrtcTheoryAttribute()
    {
        if (Nvrtc.LibraryName is null) Skip = "NVRTC is not installed (Debian: libnvrtc11.2 from non-free; or the CUDA toolkit)";
    }
}

/// <summary>
/// A test that needs an NVIDIA GPU with its driver, or the CPU emulation of CUDA (tools/cuda-emulator, which
/// tools/test.sh puts on LD_LIBRARY_PATH for a second pass over these tests); skipped, with the reason shown, elsewhere.
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (!GpuPresence.Found) Skip = GpuPresence.SkipReason;
    }
}

/// <summary>A <see cref="GpuFactAttribute"/> with data rows.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute()
    {
        if (!GpuPresence.Found) Skip = GpuPresence.SkipReason;
    }
}

/// <summary>
/// Whether the GPU tests can run here: a CUDA driver (a GPU's, or the emulator's) that sees a device, NVRTC to compile
/// the kernels and cuBLAS. Where one is missing, the tests are skipped and the reason names it.
/// </summary>
internal static class GpuPresence
{
    public static readonly string? Missing = Probe();

    public static bool Found => Missing is null;

    public static string SkipReason => $"needs an NVIDIA GPU or the CPU emulation of CUDA: {Missing}";

    private static string? Probe()
    {
        try
        {
            if (CudaDriver.LibraryName is null) return "no CUDA driver library (libcuda.so.1) on this machine";
            if (CudaDriver.DeviceCount() == 0) return $"{CudaDriver.LibraryName} sees no GPU";
        }
        catch (InvalidInputException e)
        {
            return e.Message;
        }
        if (Nvrtc.LibraryName is null) return "NVRTC is not installed (Debian: libnvrtc11.2 from non-free; or the CUDA toolkit)";
        if (Cublas.LibraryName is null) return "cuBLAS is not installed (the CUDA toolkit's libcublas)";
        return null;
    }
}

/// <summary>A test of what happens without the NVIDIA driver; skipped where the driver is installed.</summary>
public sealed class NoDriverFactAttribute : FactAttribute
{
    public NoDriverFactAttribute()
    {
        if (CudaDriver.LibraryName is not null) Skip = $"a CUDA driver library loads ({CudaDriver.LibraryName})";
    }
}
