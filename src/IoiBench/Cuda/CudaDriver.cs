using System.Runtime.InteropServices;
using System.Text;

namespace IoiBench.Cuda;

/// <summary>
/// The CUDA driver API (libcuda, installed with the NVIDIA driver): devices, the primary context (shared with cuBLAS,
/// which runs on the CUDA runtime), device memory, modules and kernel launches. Every call's status is checked; a
/// failure names the call and the driver's error name.
/// </summary>
internal static unsafe class CudaDriver
{
    public static readonly string[] LibraryNames = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];
    private const int ComputeCapabilityMajor = 75, ComputeCapabilityMinor = 76;

    private static readonly NativeLibraryLoader Library =
        new(LibraryNames, $"the NVIDIA driver's CUDA library ({LibraryNames[0]}) was not found; install the NVIDIA driver.");

    /// <summary>The loaded library, or null when the driver is not installed.</summary>
    public static string? LibraryName => Library.Name;

    private static IntPtr F(string symbol) => Library.Export(symbol);

    private static void Check(int status, string call)
    {
        if (status == 0) return;
        string name = "error " + status;
        IntPtr text;
        if (((delegate* unmanaged<int, IntPtr*, int>)F("cuGetErrorName"))(status, &text) == 0 && text != IntPtr.Zero)
            name = Marshal.PtrToStringUTF8(text) ?? name;
        throw new InvalidInputException($"CUDA driver: {call} failed: {name}.");
    }

    /// <summary>cuInit and the number of devices.</summary>
    public static int DeviceCount()
    {
        Check(((delegate* unmanaged<uint, int>)F("cuInit"))(0), "cuInit");
        int count;
        Check(((delegate* unmanaged<int*, int>)F("cuDeviceGetCount"))(&count), "cuDeviceGetCount");
        return count;
    }

    /// <summary>The driver's CUDA version as (major, minor).</summary>
    public static (int Major, int Minor) Version()
    {
        int version;
        Check(((delegate* unmanaged<int*, int>)F("cuDriverGetVersion"))(&version), "cuDriverGetVersion");
        return (version / 1000, version % 1000 / 10);
    }

    public sealed record DeviceInfo(int Ordinal, string Name, int Major, int Minor, long Memory);

    public static DeviceInfo Describe(int ordinal)
    {
        int device, major, minor;
        Check(((delegate* unmanaged<int*, int, int>)F("cuDeviceGet"))(&device, ordinal), "cuDeviceGet");
        var name = new byte[256];
        fixed (byte* p = name) Check(((delegate* unmanaged<byte*, int, int, int>)F("cuDeviceGetName"))(p, name.Length, device), "cuDeviceGetName");
        nuint memory;
        Check(((delegate* unmanaged<nuint*, int, int>)F("cuDeviceTotalMem_v2"))(&memory, device), "cuDeviceTotalMem");
        Check(((delegate* unmanaged<int*, int, int, int>)F("cuDeviceGetAttribute"))(&major, ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        Check(((delegate* unmanaged<int*, int, int, int>)F("cuDeviceGetAttribute"))(&minor, ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        int length = Array.IndexOf(name, (byte)0);
        return new DeviceInfo(ordinal, Encoding.UTF8.GetString(name, 0, length < 0 ? name.Length : length), major, minor, (long)memory);
    }

    /// <summary>Makes the device's primary context current on this thread (the context cuBLAS will also use).</summary>
    public static IntPtr UsePrimaryContext(int ordinal)
    {
        int device;
        IntPtr context;
        Check(((delegate* unmanaged<int*, int, int>)F("cuDeviceGet"))(&device, ordinal), "cuDeviceGet");
        Check(((delegate* unmanaged<IntPtr*, int, int>)F("cuDevicePrimaryCtxRetain"))(&context, device), "cuDevicePrimaryCtxRetain");
        Check(((delegate* unmanaged<IntPtr, int>)F("cuCtxSetCurrent"))(context), "cuCtxSetCurrent");
        return context;
    }

    /// <summary>Makes a context (from <see cref="UsePrimaryContext"/>) current on this thread.</summary>
    public static void SetCurrent(IntPtr context) => Check(((delegate* unmanaged<IntPtr, int>)F("cuCtxSetCurrent"))(context), "cuCtxSetCurrent");

    public static ulong Allocate(long bytes)
    {
        ulong pointer;
        Check(((delegate* unmanaged<ulong*, nuint, int>)F("cuMemAlloc_v2"))(&pointer, (nuint)bytes), $"cuMemAlloc ({bytes} bytes)");
        return pointer;
    }

    public static void Free(ulong pointer) => Check(((delegate* unmanaged<ulong, int>)F("cuMemFree_v2"))(pointer), "cuMemFree");

    public static void CopyToDevice<T>(ulong destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        fixed (T* p = source)
            Check(((delegate* unmanaged<ulong, void*, nuint, int>)F("cuMemcpyHtoD_v2"))(destination, p, (nuint)(source.Length * sizeof(T))), "cuMemcpyHtoD");
    }

    public static void CopyToHost<T>(Span<T> destination, ulong source) where T : unmanaged
    {
        fixed (T* p = destination)
            Check(((delegate* unmanaged<void*, ulong, nuint, int>)F("cuMemcpyDtoH_v2"))(p, source, (nuint)(destination.Length * sizeof(T))), "cuMemcpyDtoH");
    }

    public static void Clear(ulong pointer, long bytes) =>
        Check(((delegate* unmanaged<ulong, byte, nuint, int>)F("cuMemsetD8_v2"))(pointer, 0, (nuint)bytes), "cuMemsetD8");

    /// <summary>Free and total memory of the current context's device, in bytes.</summary>
    public static (long Free, long Total) MemoryInfo()
    {
        nuint free, total;
        Check(((delegate* unmanaged<nuint*, nuint*, int>)F("cuMemGetInfo_v2"))(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    /// <summary>Loads PTX into the current context; the driver compiles it for the GPU at hand.</summary>
    public static IntPtr LoadModule(byte[] ptx)
    {
        IntPtr module;
        fixed (byte* image = ptx) Check(((delegate* unmanaged<IntPtr*, void*, int>)F("cuModuleLoadData"))(&module, image), "cuModuleLoadData");
        return module;
    }

    /// <summary>A kernel of a loaded module, by its (extern "C") name.</summary>
    public static IntPtr Function(IntPtr module, string kernel)
    {
        IntPtr function;
        var name = Encoding.UTF8.GetBytes(kernel + "\0");
        fixed (byte* n = name) Check(((delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)F("cuModuleGetFunction"))(&function, module, n), $"cuModuleGetFunction({kernel})");
        return function;
    }

    /// <summary>Launches a kernel on the default stream; each argument points to one parameter's value.</summary>
    public static void Launch(IntPtr kernel, uint blocks, uint threadsPerBlock, void** arguments)
    {
        var launch = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)F("cuLaunchKernel");
        Check(launch(kernel, blocks, 1, 1, threadsPerBlock, 1, 1, 0, IntPtr.Zero, arguments, null), "cuLaunchKernel");
    }

    public static void Synchronize() => Check(((delegate* unmanaged<int>)F("cuCtxSynchronize"))(), "cuCtxSynchronize");
}
