using IoiBench.Gpu;

namespace IoiBench.Tests.Gpu;

/// <summary>A test that needs NVRTC; skipped, with the reason shown, where the library is not installed.</summary>
public sealed class NvrtcFactAttribute : FactAttribute
{
    public NvrtcFactAttribute()
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

internal static class GpuPresence
{
    public const string SkipReason = "no NVIDIA GPU with a driver on this machine";

    public static readonly bool Found = Probe();

    private static bool Probe()
    {
        try
        {
            return CudaDriver.LibraryName is not null && CudaDriver.DeviceCount() > 0;
        }
        catch (InvalidInputException)
        {
            return false;
        }
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
