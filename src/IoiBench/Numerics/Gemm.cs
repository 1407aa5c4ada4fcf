namespace IoiBench.Numerics;

/// <summary>Which implementation <see cref="Gemm"/> runs.</summary>
public enum GemmBackend { OpenBlas, Managed }

/// <summary>
/// Row-major single-precision matrix product C = op(A)·op(B) + beta·C, the one entry point for every
/// matrix product in IoiBench. It runs OpenBLAS's <c>cblas_sgemm</c> when <c>libopenblas.so.0</c> loads
/// and the managed <see cref="ManagedGemm"/> kernel otherwise (with one warning). Setting the environment
/// variable <c>IOIBENCH_GEMM=managed</c> forces the managed kernel.
/// </summary>
public static class Gemm
{
    private static readonly Lazy<GemmBackend> SelectedBackend = new(SelectBackend);

    private static int _threads = Environment.ProcessorCount;

    public static GemmBackend Backend => SelectedBackend.Value;

    /// <summary>
    /// Threads one product may use (default: every core). Callers that run many small independent products in
    /// parallel themselves (SAE training) set 1: split across threads, products that small run slower, not faster.
    /// </summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _threads = value;
            if (Backend == GemmBackend.OpenBlas) OpenBlas.SetThreads(value);
        }
    }

    /// <summary>
    /// C[m×n] = op(A)·op(B) + beta·C with contiguous row-major operands: op(A) is m×k (A stored k×m when
    /// <paramref name="transA"/>), op(B) is k×n (B stored n×k when <paramref name="transB"/>).
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transA = false, bool transB = false, float beta = 0f)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "GEMM dimensions must be non-negative.");
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GEMM {m}×{k}·{k}×{n}: operand spans are too short (A {a.Length}, B {b.Length}, C {c.Length}).");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (beta == 0f) c[..(m * n)].Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(c[..(m * n)], beta, c[..(m * n)]);
            return;
        }
        int lda = transA ? m : k, ldb = transB ? k : n;
        if (Backend == GemmBackend.OpenBlas)
            OpenBlas.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, n);
        else
            ManagedGemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, beta, c, n);
    }

    /// <summary>C = A·B for rank-2 tensors (optionally transposed), returning a new tensor.</summary>
    public static Tensor Multiply(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        if (a.Rank != 2 || b.Rank != 2) throw new ArgumentException("Gemm.Multiply needs rank-2 tensors.");
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw new ArgumentException($"Inner dimensions differ: {a} · {b} (transA={transA}, transB={transB}).");
        var c = new Tensor(m, n);
        Multiply(a.Span, b.Span, c.Span, m, n, k, transA, transB);
        return c;
    }

    private static GemmBackend SelectBackend()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("IOIBENCH_GEMM"), "managed", StringComparison.OrdinalIgnoreCase))
            return GemmBackend.Managed;
        if (OpenBlas.TryLoad(out string? why))
            return GemmBackend.OpenBlas;
        Warnings.Emit($"OpenBLAS not available ({why}); using the managed GEMM kernel, which is slower. " +
                      "On Debian/Ubuntu: apt-get install libopenblas0-pthread");
        return GemmBackend.Managed;
    }
}
