using System.Reflection;

namespace IoiBench.Cuda;

/// <summary>
/// CUDA C source kept beside the code (every *.cu file of the library is an embedded resource), compiled by NVRTC for the current
/// device and loaded into the current context; kernels are looked up by name once.
/// </summary>
internal sealed unsafe class CudaModule
{
    private readonly IntPtr _module;
    private readonly Dictionary<string, IntPtr> _kernels = new(StringComparer.Ordinal);

    private CudaModule(byte[] ptx) => _module = CudaDriver.LoadModule(ptx);

    /// <summary>The source of an embedded kernel file, e.g. "sae_common.cu".</summary>
    public static string Source(string fileName)
    {
        var assembly = typeof(CudaModule).Assembly;
        string resource = $"IoiBench.Kernels.{fileName}";
        using var stream = assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"the kernel source {resource} is not embedded in {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Compiles embedded kernel files as one translation unit, in order (a variant's kernels after the shared ones they
    /// call), for compute capability major.minor (null: NVRTC's default target), with preprocessor definitions
    /// ("NAME=VALUE") for sizes the kernels unroll over. #line directives keep NVRTC's messages naming each file.
    /// </summary>
    public static byte[] Compile(IReadOnlyList<string> fileNames, (int Major, int Minor)? computeCapability = null,
        IReadOnlyList<string>? defines = null) =>
        Nvrtc.Compile(string.Concat(fileNames.Select(f => $"#line 1 \"{f}\"\n{Source(f)}\n")), fileNames[^1],
        [
            .. computeCapability is var (major, minor) ? [$"--gpu-architecture=compute_{major}{minor}"] : Array.Empty<string>(),
            .. (defines ?? []).Select(d => "-D" + d),
        ]);

    /// <summary>Compiles and loads embedded kernel files into the current context.</summary>
    public static CudaModule Load(IReadOnlyList<string> fileNames, (int Major, int Minor) computeCapability, IReadOnlyList<string> defines) =>
        new(Compile(fileNames, computeCapability, defines));

    /// <summary>Launches <paramref name="kernel"/> on a 1-D grid of <paramref name="blocks"/> × <paramref name="threads"/>.</summary>
    public void Launch(string kernel, long blocks, int threads, params ReadOnlySpan<KernelArgument> arguments)
    {
        if (!_kernels.TryGetValue(kernel, out IntPtr function))
            _kernels[kernel] = function = CudaDriver.Function(_module, kernel);
        var pointers = stackalloc void*[arguments.Length];
        fixed (KernelArgument* values = arguments)
        {
            for (int i = 0; i < arguments.Length; i++) pointers[i] = values + i;
            CudaDriver.Launch(function, checked((uint)blocks), (uint)threads, pointers);
        }
    }

    /// <summary>Launches one thread per element of <paramref name="total"/>, 256 to a block.</summary>
    public void LaunchElementwise(string kernel, long total, params ReadOnlySpan<KernelArgument> arguments) =>
        Launch(kernel, (total + 255) / 256, 256, arguments);
}
