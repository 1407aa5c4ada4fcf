namespace IoiBench.Cuda;

/// <summary>
/// cuBLAS (from the user's CUDA installation): single-precision matrix products on device memory. cuBLAS is
/// column-major; <see cref="Multiply"/> takes row-major matrices, as the rest of IoiBench does, by computing Cᵀ = Bᵀ·Aᵀ.
/// </summary>
internal static unsafe class Cublas
{
    public static readonly string[] LibraryNames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so", "cublas64_12.dll", "cublas64_11.dll"];
    private const int MajorVersion = 0, MinorVersion = 1, PatchLevel = 2, NoTranspose = 0, Transpose = 1;

    private static readonly NativeLibraryLoader Library =
        new(LibraryNames, $"cuBLAS ({LibraryNames[0]}, {LibraryNames[1]} or {LibraryNames[2]}) was not found; install the CUDA toolkit's cuBLAS library.");

    public static string? LibraryName => Library.Name;

    private static IntPtr F(string symbol) => Library.Export(symbol);

    private static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidInputException($"cuBLAS: {call} failed with status {status}.");
    }

    /// <summary>The library's version (no GPU needed).</summary>
    public static (int Major, int Minor, int Patch) Version()
    {
        int major, minor, patch;
        var property = (delegate* unmanaged<int, int*, int>)F("cublasGetProperty");
        Check(property(MajorVersion, &major), "cublasGetProperty");
        Check(property(MinorVersion, &minor), "cublasGetProperty");
        Check(property(PatchLevel, &patch), "cublasGetProperty");
        return (major, minor, patch);
    }

    /// <summary>A handle bound to the context current on this thread.</summary>
    public static IntPtr Create()
    {
        IntPtr handle;
        Check(((delegate* unmanaged<IntPtr*, int>)F("cublasCreate_v2"))(&handle), "cublasCreate");
        return handle;
    }

    public static void Destroy(IntPtr handle) => Check(((delegate* unmanaged<IntPtr, int>)F("cublasDestroy_v2"))(handle), "cublasDestroy");

    /// <summary>C = A·B for row-major device matrices A [m, k], B [k, n], C [m, n].</summary>
    public static void Multiply(IntPtr handle, ulong a, ulong b, ulong c, int m, int n, int k)
    {
        float alpha = 1, beta = 0;
        var sgemm = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int>)F("cublasSgemm_v2");
        Check(sgemm(handle, NoTranspose, NoTranspose, n, m, k, &alpha, b, n, a, k, &beta, c, n), "cublasSgemm");
    }

    /// <summary>
    /// For each of <paramref name="batch"/> products i: C_i = alpha·op(A_i)·op(B_i) + beta·C_i, row-major, with op(A_i) [m, k],
    /// op(B_i) [k, n] and C_i [m, n]; matrix i of each operand starts i·stride floats after the first. op transposes
    /// when asked (A stored [k, m], B stored [n, k]). Rows are packed unless <paramref name="lda"/>, <paramref name="ldb"/>
    /// or <paramref name="ldc"/> give their stride (a block of columns of a wider matrix).
    /// </summary>
    public static void MultiplyBatched(IntPtr handle, bool transA, bool transB, int m, int n, int k, float alpha,
        ulong a, long strideA, ulong b, long strideB, float beta, ulong c, long strideC, int batch, int? lda = null, int? ldb = null, int? ldc = null)
    {
        var sgemm = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int>)
            F("cublasSgemmStridedBatched");
        // Row-major X [r, c] is column-major Xᵀ with leading dimension c, so C = op(A)·op(B) is Cᵀ = op(B)ᵀ·op(A)ᵀ.
        Check(sgemm(handle, transB ? Transpose : NoTranspose, transA ? Transpose : NoTranspose, n, m, k, &alpha,
            b, ldb ?? (transB ? k : n), strideB, a, lda ?? (transA ? m : k), strideA, &beta, c, ldc ?? n, strideC, batch), "cublasSgemmStridedBatched");
    }
}
