using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IoiBench.Numerics;

/// <summary>
/// The fallback SGEMM used when OpenBLAS is missing: GotoBLAS-style blocking (a KC×NC panel of B packed
/// into 16-wide strips, an MC×KC block of A packed into 6-row strips) around a 6×16 register micro-kernel of
/// twelve <see cref="Vector256{T}"/> FMA accumulators. Work items (A block × column group) run in parallel.
/// Transposition is absorbed by the packing, so the kernel only ever sees one layout.
/// </summary>
internal static unsafe class ManagedGemm
{
    private const int MR = 6, NR = 16, KC = 256, MC = 96, NC = 2048, StripsPerItem = 8;
    private const long ParallelThresholdFlops = 1L << 21;

    public static void Multiply(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            var operands = new Operands(pa, lda, transA, pb, ldb, transB, pc, ldc);
            float* packedB = (float*)NativeMemory.AlignedAlloc((nuint)(KC * RoundUp(Math.Min(n, NC), NR) * sizeof(float)), 64);
            try
            {
                for (int j0 = 0; j0 < n; j0 += NC)
                {
                    int nc = Math.Min(NC, n - j0);
                    for (int p0 = 0; p0 < k; p0 += KC)
                    {
                        int kc = Math.Min(KC, k - p0);
                        PackB(operands, p0, kc, j0, nc, packedB);
                        RunBlock(operands, packedB, m, j0, nc, p0, kc);
                    }
                }
            }
            finally
            {
                NativeMemory.AlignedFree(packedB);
            }
        }
    }

    private readonly struct Operands(float* a, int lda, bool transA, float* b, int ldb, bool transB, float* c, int ldc)
    {
        public readonly float* A = a, B = b, C = c;
        public readonly int Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly bool TransA = transA, TransB = transB;
    }

    private static void RunBlock(Operands op, float* packedB, int m, int j0, int nc, int p0, int kc)
    {
        int mBlocks = (m + MC - 1) / MC;
        int strips = (nc + NR - 1) / NR;
        int groups = (strips + StripsPerItem - 1) / StripsPerItem;
        int items = mBlocks * groups;
        long flops = 2L * m * nc * kc;
        int packedASize = MC * KC;

        if (items == 1 || flops < ParallelThresholdFlops || Gemm.Threads == 1)
        {
            float* packedA = (float*)NativeMemory.AlignedAlloc((nuint)(packedASize * sizeof(float)), 64);
            try
            {
                for (int item = 0; item < items; item++) RunItem(op, packedA, packedB, item, groups, m, j0, nc, p0, kc);
            }
            finally { NativeMemory.AlignedFree(packedA); }
            return;
        }

        nint packedBAddress = (nint)packedB;
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = Gemm.Threads },
            () => (nint)NativeMemory.AlignedAlloc((nuint)(packedASize * sizeof(float)), 64),
            (item, _, packedA) =>
            {
                RunItem(op, (float*)packedA, (float*)packedBAddress, item, groups, m, j0, nc, p0, kc);
                return packedA;
            },
            packedA => NativeMemory.AlignedFree((void*)packedA));
    }

    private static void RunItem(Operands op, float* packedA, float* packedB, int item, int groups, int m, int j0, int nc, int p0, int kc)
    {
        int i0 = item / groups * MC;
        int mc = Math.Min(MC, m - i0);
        int firstStrip = item % groups * StripsPerItem;
        int lastStrip = Math.Min(firstStrip + StripsPerItem, (nc + NR - 1) / NR);
        PackA(op, i0, mc, p0, kc, packedA);
        for (int s = firstStrip; s < lastStrip; s++)
        {
            int nr = Math.Min(NR, nc - s * NR);
            float* bStrip = packedB + s * NR * kc;
            for (int r0 = 0; r0 < mc; r0 += MR)
            {
                int mr = Math.Min(MR, mc - r0);
                float* cTile = op.C + (long)(i0 + r0) * op.Ldc + j0 + s * NR;
                Kernel(kc, packedA + r0 * kc, bStrip, cTile, op.Ldc, mr, nr);
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into NR-wide strips, k-major within a strip, zero-padded.
    /// The loop order follows B's storage so that reads are contiguous.
    /// </summary>
    private static void PackB(Operands op, int p0, int kc, int j0, int nc, float* dst)
    {
        int strips = (nc + NR - 1) / NR;
        if ((long)kc * nc < 1 << 16 || Gemm.Threads == 1)
        {
            for (int s = 0; s < strips; s++) PackBStrip(op, p0, kc, j0, nc, dst, s);
            return;
        }
        nint address = (nint)dst;
        Parallel.For(0, strips, s => PackBStrip(op, p0, kc, j0, nc, (float*)address, s));
    }

    private static void PackBStrip(Operands op, int p0, int kc, int j0, int nc, float* dst, int s)
    {
        int nr = Math.Min(NR, nc - s * NR), col0 = j0 + s * NR;
        float* strip = dst + s * NR * kc;
        if (nr < NR) new Span<float>(strip, NR * kc).Clear();
        if (op.TransB)
            for (int j = 0; j < nr; j++)
            {
                float* source = op.B + (long)(col0 + j) * op.Ldb + p0;
                for (int p = 0; p < kc; p++) strip[p * NR + j] = source[p];
            }
        else
            for (int p = 0; p < kc; p++)
                new ReadOnlySpan<float>(op.B + (long)(p0 + p) * op.Ldb + col0, nr).CopyTo(new Span<float>(strip + p * NR, nr));
    }

    /// <summary>
    /// Packs op(A)[i0..i0+mc, p0..p0+kc] into MR-row strips, k-major within a strip, zero-padded.
    /// The loop order follows A's storage so that reads are contiguous.
    /// </summary>
    private static void PackA(Operands op, int i0, int mc, int p0, int kc, float* dst)
    {
        for (int r0 = 0; r0 < mc; r0 += MR)
        {
            int mr = Math.Min(MR, mc - r0), row0 = i0 + r0;
            float* strip = dst + r0 * kc;
            if (mr < MR) new Span<float>(strip, MR * kc).Clear();
            if (op.TransA)
                for (int p = 0; p < kc; p++)
                    new ReadOnlySpan<float>(op.A + (long)(p0 + p) * op.Lda + row0, mr).CopyTo(new Span<float>(strip + p * MR, mr));
            else
                for (int r = 0; r < mr; r++)
                {
                    float* source = op.A + (long)(row0 + r) * op.Lda + p0;
                    for (int p = 0; p < kc; p++) strip[p * MR + r] = source[p];
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>C[mr×nr] += packed A strip (6×kc) · packed B strip (kc×16).</summary>
    private static void Kernel(int kc, float* a, float* b, float* c, int ldc, int mr, int nr)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += MR, b += NR)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]); c00 = MultiplyAdd(x, b0, c00); c01 = MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = MultiplyAdd(x, b0, c10); c11 = MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = MultiplyAdd(x, b0, c20); c21 = MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = MultiplyAdd(x, b0, c30); c31 = MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = MultiplyAdd(x, b0, c40); c41 = MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = MultiplyAdd(x, b0, c50); c51 = MultiplyAdd(x, b1, c51);
        }

        if (mr == MR && nr == NR)
        {
            AddRow(c, c00, c01); AddRow(c + ldc, c10, c11); AddRow(c + 2 * ldc, c20, c21);
            AddRow(c + 3 * ldc, c30, c31); AddRow(c + 4 * ldc, c40, c41); AddRow(c + 5 * ldc, c50, c51);
            return;
        }

        float* tile = stackalloc float[MR * NR];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++)
                c[(long)r * ldc + j] += tile[r * NR + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, Vector256<float> lo, Vector256<float> hi)
    {
        (Vector256.Load(c) + lo).Store(c);
        (Vector256.Load(c + 8) + hi).Store(c + 8);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
