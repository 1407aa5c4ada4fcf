using IoiBench.Cuda;
using IoiBench.Model;
using IoiBench.Saes;
using IoiBench.Numerics;

namespace IoiBench.DeviceCheck;

/// <summary>One line of the CUDA check: a component, whether it works, and what was found or what is missing.</summary>
public sealed record CudaCheck(string Component, bool Ok, string Detail);

/// <summary>
/// Checks that IoiBench can use this machine's NVIDIA GPU, one link of the chain at a time: the driver and its
/// devices, NVRTC compiling kernels, cuBLAS, a kernel launched on the GPU, a cuBLAS product, the batched SAE trainer
/// for each variant and for a small sweep, and the GPT-2 forward pass, each result compared with the CPU's. Every failure names what is missing;
/// checks that need a missing part say so instead of running.
/// </summary>
public static unsafe class CudaSelfTest
{
    private const string SelfTestKernels = "self_test.cu";

    /// <summary>True when every check passed: a GPU, the driver, NVRTC and cuBLAS all work.</summary>
    public static bool Usable(IReadOnlyList<CudaCheck> checks) => checks.All(c => c.Ok);

    public static List<CudaCheck> Run()
    {
        var checks = new List<CudaCheck>();
        bool Try(string component, Func<string> check)
        {
            try
            {
                checks.Add(new CudaCheck(component, true, check()));
                return true;
            }
            catch (Exception e) when (e is InvalidInputException or DllNotFoundException or EntryPointNotFoundException)
            {
                checks.Add(new CudaCheck(component, false, e.Message));
                return false;
            }
        }
        void NotRun(string component, string needs) => checks.Add(new CudaCheck(component, false, $"not run: needs {needs}"));

        bool gpu = Try("driver", () =>
        {
            var (major, minor) = CudaDriver.Version();
            int count = CudaDriver.DeviceCount();
            if (count == 0) throw new InvalidInputException($"{CudaDriver.LibraryName} (CUDA {major}.{minor}) sees no GPU.");
            var devices = Enumerable.Range(0, count).Select(CudaDriver.Describe)
                .Select(d => $"GPU {d.Ordinal}: {d.Name}, compute capability {d.Major}.{d.Minor}, {d.Memory / (1024.0 * 1024 * 1024):F1} GiB");
            return $"{CudaDriver.LibraryName}, CUDA {major}.{minor}; " + string.Join("; ", devices);
        });
        byte[]? ptx = null;
        bool nvrtc = Try("nvrtc", () =>
        {
            var (major, minor) = Nvrtc.Version();
            ptx = CudaModule.Compile([SelfTestKernels]);
            var trainers = SaeVariants.All.Select(v => $"{v.Name} {BatchedSaeTrainer.Compile(v).Length}");
            int forward = CudaModule.Compile([CudaGpt2Model.KernelFile]).Length;
            return $"{Nvrtc.LibraryName}, version {major}.{minor}; compiles a test kernel, each SAE variant's training kernels " +
                   $"(bytes of PTX: {string.Join(", ", trainers)}) and the forward pass's ({forward} bytes)";
        });
        bool cublas = Try("cublas", () =>
        {
            var (major, minor, patch) = Cublas.Version();
            return $"{Cublas.LibraryName}, version {major}.{minor}.{patch}";
        });

        if (gpu && nvrtc) Try("kernel launch", () => LaunchAxpy(ptx!));
        else NotRun("kernel launch", "a GPU with its driver, and NVRTC");
        if (gpu && cublas) Try("cublas product", CublasProduct);
        else NotRun("cublas product", "a GPU with its driver, and cuBLAS");
        foreach (var check in GpuTrainingCheck.Cases)
        {
            string component = "train " + check.Label;
            if (gpu && nvrtc && cublas) Try(component, () => CompareTraining(check));
            else NotRun(component, "a GPU with its driver, NVRTC and cuBLAS");
        }
        if (gpu && nvrtc && cublas) Try("train sweep", CompareSweep);
        else NotRun("train sweep", "a GPU with its driver, NVRTC and cuBLAS");
        if (gpu && nvrtc && cublas) Try("gpt2 forward", CompareForward);
        else NotRun("gpt2 forward", "a GPU with its driver, NVRTC and cuBLAS");
        return checks;
    }

    /// <summary>y += a·x on the GPU for 10,000 floats; exact agreement with the CPU (one rounding either way).</summary>
    private static string LaunchAxpy(byte[] ptx)
    {
        const int n = 10_000;
        var rng = new DeterministicRandom(1);
        var x = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
        var y = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
        float a = 0.75f;
        CudaDriver.UsePrimaryContext(0);
        var kernel = CudaDriver.Function(CudaDriver.LoadModule(ptx), "axpy");
        ulong dx = CudaDriver.Allocate(n * sizeof(float)), dy = CudaDriver.Allocate(n * sizeof(float));
        try
        {
            CudaDriver.CopyToDevice(dx, x);
            CudaDriver.CopyToDevice(dy, y);
            float scale = a;   // kernel arguments are passed by address
            int count = n;
            void** arguments = stackalloc void*[] { &scale, &dx, &dy, &count };
            CudaDriver.Launch(kernel, (n + 255) / 256, 256, arguments);
            CudaDriver.Synchronize();
            var result = new float[n];
            CudaDriver.CopyToHost(result, dy);
            int wrong = Enumerable.Range(0, n).Count(i => result[i] != MathF.FusedMultiplyAdd(a, x[i], y[i]) && result[i] != y[i] + a * x[i]);
            if (wrong > 0) throw new InvalidInputException($"axpy on the GPU differs from the CPU at {wrong} of {n} entries.");
            return $"axpy on {n} floats matches the CPU exactly";
        }
        finally
        {
            CudaDriver.Free(dx);
            CudaDriver.Free(dy);
        }
    }

    /// <summary>The batched GPU trainer against the CPU's SAE training (<see cref="GpuTrainingCheck"/>).</summary>
    private static string CompareTraining(Saes.DeviceCheckCase check)
    {
        var device = CudaDevice.Open();
        var difference = GpuTrainingCheck.Compare(device, check);
        string text = $"parameters within {difference.Parameters:G2}, epoch losses within {difference.Loss:G2} (relative), " +
                      (difference.SameResamples ? "same resamples" : "DIFFERENT resample counts");
        return difference.Agrees ? $"the GPU trains as the CPU does after 20 steps: {text}"
            : throw new InvalidInputException($"the GPU's training differs from the CPU's: {text}; float32 rounding allows 1e-4. Worst: {difference.Worst}");
    }

    /// <summary>A small sweep on both devices (<see cref="GpuTrainingCheck.CompareSweep"/>).</summary>
    private static string CompareSweep()
    {
        var (parameters, sameFiles) = GpuTrainingCheck.CompareSweep();
        string text = $"final parameters within {parameters:G2}, {(sameFiles ? "the same files" : "DIFFERENT files")}";
        return parameters <= 1e-4 && sameFiles ? $"a sweep of every variant with checkpoints and resampling gives the CPU's SAEs: {text}"
            : throw new InvalidInputException($"a GPU sweep differs from the CPU's: {text}; float32 rounding allows 1e-4.");
    }

    /// <summary>The GPU forward pass against the CPU's (<see cref="GpuForwardCheck"/>).</summary>
    private static string CompareForward()
    {
        double worst = GpuForwardCheck.Compare();
        return worst <= 1e-4 ? $"logits and every hook point's captures, with q and pattern patches, raw and folded, and a pass started at layer 1, match the CPU within {worst:G2} (relative)"
            : throw new InvalidInputException($"the GPU's forward pass differs from the CPU's by up to {worst:G3} (relative); float32 rounding allows 1e-4.");
    }

    /// <summary>A 96×80×64 product by cuBLAS against the CPU's, within float32 rounding.</summary>
    private static string CublasProduct()
    {
        const int m = 96, n = 80, k = 64;
        var rng = new DeterministicRandom(2);
        var a = new Tensor(m, k);
        var b = new Tensor(k, n);
        foreach (var t in new[] { a, b })
            for (int i = 0; i < t.Length; i++) t.Span[i] = (float)rng.NextGaussian();
        var expected = Gemm.Multiply(a, b);
        CudaDriver.UsePrimaryContext(0);
        var handle = Cublas.Create();
        ulong da = CudaDriver.Allocate(a.Length * sizeof(float)), db = CudaDriver.Allocate(b.Length * sizeof(float)), dc = CudaDriver.Allocate(m * n * sizeof(float));
        try
        {
            CudaDriver.CopyToDevice(da, a.Span);
            CudaDriver.CopyToDevice(db, b.Span);
            Cublas.Multiply(handle, da, db, dc, m, n, k);
            CudaDriver.Synchronize();
            var result = new float[m * n];
            CudaDriver.CopyToHost(result, dc);
            double worst = Enumerable.Range(0, m * n).Max(i => Math.Abs(result[i] - expected.Span[i]) / (1 + Math.Abs(expected.Span[i])));
            if (worst > 1e-4) throw new InvalidInputException($"cuBLAS's product differs from the CPU's by up to {worst:G3} (relative); float32 rounding allows 1e-4.");
            return $"a {m}×{k}·{k}×{n} product matches the CPU's within {worst:G2} (relative)";
        }
        finally
        {
            foreach (ulong pointer in new[] { da, db, dc }) CudaDriver.Free(pointer);
            Cublas.Destroy(handle);
        }
    }
}
