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
    /// C[m×n] = op(A)·op(B) + beta·C with row-major operands: op(A) is m×k (A stored k×m when
    /// <paramref name="transA"/>), op(B) is k×n (B stored n×k when <paramref name="transB"/>). Each operand's rows are
    /// contiguous, <paramref name="lda"/>, <paramref name="ldb"/> and <paramref name="ldc"/> floats apart when given (a
    /// block of columns of a wider matrix), else packed.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transA = false, bool transB = false, float beta = 0f, int? lda = null, int? ldb = null, int? ldc = null)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "GEMM dimensions must be non-negative.");
        int rowsA = transA ? k : m, columnsA = transA ? m : k, rowsB = transB ? n : k, columnsB = transB ? k : n;
        int strideA = lda ?? columnsA, strideB = ldb ?? columnsB, strideC = ldc ?? n;
        if (strideA < columnsA || strideB < columnsB || strideC < n)
            throw new ArgumentOutOfRangeException(nameof(lda), "a GEMM row stride is shorter than its row.");
        static long Needed(int rows, int columns, int stride) => rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * stride + columns;
        if (Needed(rowsA, columnsA, strideA) > a.Length || Needed(rowsB, columnsB, strideB) > b.Length || Needed(m, n, strideC) > c.Length)
            throw new ArgumentException($"GEMM {m}×{k}·{k}×{n}: operand spans are too short (A {a.Length}, B {b.Length}, C {c.Length}).");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * strideC, n);
                if (beta == 0f) row.Clear();
                else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
            return;
        }
        if (Backend == GemmBackend.OpenBlas)
            OpenBlas.Sgemm(transA, transB, m, n, k, a, strideA, b, strideB, beta, c, strideC);
        else
            ManagedGemm.Multiply(transA, transB, m, n, k, a, strideA, b, strideB, beta, c, strideC);
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
