namespace IoiBench.Cuda;

/// <summary>
/// GPU 0 made ready for work: its primary context current on this thread, a cuBLAS handle on it, and the kernels of
/// the given embedded source files compiled for it. It is opened once per process (<see cref="Open"/>) and shared by
/// everything that runs there — the forward pass and the SAE trainer — so kernels compile once; it lives as long as
/// the process. Opening fails with one message that names what is missing (driver, GPU, NVRTC or cuBLAS).
/// </summary>
internal sealed class CudaDevice
{
    private static readonly Lazy<CudaDevice> Shared = new(OpenFirstGpu, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Dictionary<string, CudaModule> _modules = new(StringComparer.Ordinal);
    private readonly Lock _modulesLock = new();

    private readonly IntPtr _context;

    public CudaDriver.DeviceInfo Info { get; }
    public IntPtr Blas { get; }

    private CudaDevice(CudaDriver.DeviceInfo info, IntPtr context, IntPtr blas)
    {
        Info = info;
        _context = context;
        Blas = blas;
    }

    /// <summary>Makes the device's context current on the calling thread (work may come from any thread).</summary>
    public void MakeCurrent() => CudaDriver.SetCurrent(_context);

    /// <summary>The process's GPU, opened on first use (a failure is remembered: the GPU will not appear later).</summary>
    public static CudaDevice Open() => Shared.Value;

    private static CudaDevice OpenFirstGpu()
    {
        try
        {
            if (CudaDriver.DeviceCount() == 0) throw new InvalidInputException($"{CudaDriver.LibraryName} sees no GPU.");
            var info = CudaDriver.Describe(0);
            Nvrtc.Version();
            var context = CudaDriver.UsePrimaryContext(0);
            return new CudaDevice(info, context, Cublas.Create());
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"--device cuda: {e.Message} Run 'ioibench device' to check the CUDA set-up.");
        }
    }

    /// <summary>GPU memory not in use, in bytes.</summary>
    public long FreeMemory => CudaDriver.MemoryInfo().Free;

    /// <summary>The kernels of embedded source files (one unit, in order) with the given definitions, compiled on first use.</summary>
    public CudaModule Module(IReadOnlyList<string> fileNames, params string[] defines)
    {
        string key = string.Join(" ", [.. fileNames, .. defines]);
        using var _ = _modulesLock.EnterScope();
        if (!_modules.TryGetValue(key, out var module))
        {
            try
            {
                _modules[key] = module = CudaModule.Load(fileNames, (Info.Major, Info.Minor), defines);
            }
            catch (InvalidInputException e)
            {
                throw new InvalidInputException($"--device cuda: {e.Message}");
            }
        }
        return module;
    }
}
