using System.Runtime.InteropServices;

namespace IoiBench.Numerics;

/// <summary>
/// <c>cblas_sgemm</c> from OpenBLAS, resolved at run time so that a machine without the library falls back
/// to the managed kernel instead of failing. Threads start at the machine's core count (see <see cref="Gemm.Threads"/>).
/// </summary>
internal static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly string[] LibraryNames = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "openblas"];

    private static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private static delegate* unmanaged<int, void> _setThreads;

    public static bool TryLoad(out string? why)
    {
        foreach (string name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, typeof(OpenBlas).Assembly, null, out IntPtr handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out IntPtr sgemm))
            {
                why = $"{name} has no cblas_sgemm";
                return false;
            }
            _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out IntPtr setThreads))
            {
                _setThreads = (delegate* unmanaged<int, void>)setThreads;
                SetThreads(Environment.ProcessorCount);
            }
            why = null;
            return true;
        }
        why = "libopenblas.so.0 not found";
        return false;
    }

    /// <summary>How many threads each sgemm call may use (a no-op for builds without the setter).</summary>
    public static void SetThreads(int threads)
    {
        if (_setThreads != null) _setThreads(threads);
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        fixed (float* pa = a, pb = b, pc = c)
            _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, 1f, pa, lda, pb, ldb, beta, pc, ldc);
    }
}
