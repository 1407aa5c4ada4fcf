using System.Runtime.InteropServices;
using System.Text;

namespace IoiBench.Cuda;

/// <summary>
/// NVRTC, CUDA's run-time compiler: CUDA C source to PTX, which the driver then compiles for the GPU at hand. It needs
/// no GPU, so kernels are compile-checked on any machine with the library.
/// </summary>
internal static unsafe class Nvrtc
{
    public static readonly string[] LibraryNames =
        ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"];

    private static readonly NativeLibraryLoader Library = new(LibraryNames,
        $"CUDA's run-time compiler NVRTC ({LibraryNames[0]}, {LibraryNames[1]} or {LibraryNames[2]}) was not found; install the CUDA toolkit's NVRTC library.");

    public static string? LibraryName => Library.Name;

    private static IntPtr F(string symbol) => Library.Export(symbol);

    private static void Check(int status, string call)
    {
        if (status == 0) return;
        var text = ((delegate* unmanaged<int, IntPtr>)F("nvrtcGetErrorString"))(status);
        throw new InvalidInputException($"NVRTC: {call} failed: {Marshal.PtrToStringUTF8(text) ?? "error " + status}.");
    }

    public static (int Major, int Minor) Version()
    {
        int major, minor;
        Check(((delegate* unmanaged<int*, int*, int>)F("nvrtcVersion"))(&major, &minor), "nvrtcVersion");
        return (major, minor);
    }

    /// <summary>Compiles CUDA C to PTX (NUL-terminated, as cuModuleLoadData wants); a compile error carries NVRTC's log.</summary>
    public static byte[] Compile(string source, string name, IReadOnlyList<string> options)
    {
        IntPtr program;
        var sourceBytes = Encoding.UTF8.GetBytes(source + "\0");
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* s = sourceBytes, n = nameBytes)
            Check(((delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)F("nvrtcCreateProgram"))(&program, s, n, 0, null, null), "nvrtcCreateProgram");
        try
        {
            var optionHandles = options.Select(o => GCHandle.Alloc(Encoding.UTF8.GetBytes(o + "\0"), GCHandleType.Pinned)).ToList();
            int status;
            try
            {
                var pointers = optionHandles.Select(h => h.AddrOfPinnedObject()).ToArray();
                fixed (IntPtr* p = pointers) status = ((delegate* unmanaged<IntPtr, int, IntPtr*, int>)F("nvrtcCompileProgram"))(program, pointers.Length, p);
            }
            finally
            {
                foreach (var handle in optionHandles) handle.Free();
            }
            if (status != 0) throw new InvalidInputException($"NVRTC: {name} does not compile:\n{Log(program)}");
            nuint size;
            Check(((delegate* unmanaged<IntPtr, nuint*, int>)F("nvrtcGetPTXSize"))(program, &size), "nvrtcGetPTXSize");
            var ptx = new byte[(int)size];
            fixed (byte* p = ptx) Check(((delegate* unmanaged<IntPtr, byte*, int>)F("nvrtcGetPTX"))(program, p), "nvrtcGetPTX");
            return ptx;
        }
        finally
        {
            ((delegate* unmanaged<IntPtr*, int>)F("nvrtcDestroyProgram"))(&program);
        }
    }

    private static string Log(IntPtr program)
    {
        nuint size;
        Check(((delegate* unmanaged<IntPtr, nuint*, int>)F("nvrtcGetProgramLogSize"))(program, &size), "nvrtcGetProgramLogSize");
        var log = new byte[(int)size];
        fixed (byte* p = log) Check(((delegate* unmanaged<IntPtr, byte*, int>)F("nvrtcGetProgramLog"))(program, p), "nvrtcGetProgramLog");
        return Encoding.UTF8.GetString(log).TrimEnd('\0', '\n');
    }
}
