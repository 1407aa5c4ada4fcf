using IoiBench.Numerics;

namespace IoiBench.Tests.Numerics;

public class GemmTests
{
    /// <summary>Shapes that exercise full and partial 6×16 tiles, several KC panels and more than one MC block.</summary>
    public static TheoryData<int, int, int, bool, bool> Shapes => new()
    {
        { 1, 1, 1, false, false },
        { 7, 17, 5, false, false },
        { 6, 16, 256, false, false },
        { 13, 33, 300, true, false },
        { 97, 35, 257, false, true },
        { 100, 130, 70, true, true },
        { 200, 40, 513, false, false },
    };

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>The textbook triple loop in double precision, with the same storage conventions.</summary>
    private static float[] Naive(float[] a, float[] b, float[] c, int m, int n, int k, bool transA, bool transB, float beta)
    {
        var result = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = beta * c[i * n + j];
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                result[i * n + j] = (float)sum;
            }
        return result;
    }

    private static void AssertClose(float[] expected, float[] actual, int k)
    {
        float tolerance = 1e-5f * k + 1e-5f;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ManagedKernelMatchesTheNaiveProduct(int m, int n, int k, bool transA, bool transB)
    {
        var a = Random(m * k, 1); var b = Random(k * n, 2); var c = Random(m * n, 3);
        foreach (float beta in new[] { 0f, 1f, 0.5f })
        {
            var expected = Naive(a, b, c, m, n, k, transA, transB, beta);
            var actual = (float[])c.Clone();
            ManagedGemm.Multiply(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, beta, actual, n);
            AssertClose(expected, actual, k);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SelectedBackendMatchesTheNaiveProduct(int m, int n, int k, bool transA, bool transB)
    {
        var a = Random(m * k, 4); var b = Random(k * n, 5); var c = Random(m * n, 6);
        var expected = Naive(a, b, c, m, n, k, transA, transB, 1f);
        Gemm.Multiply(a, b, c, m, n, k, transA, transB, beta: 1f);
        AssertClose(expected, c, k);
    }

    [Fact]
    public void ManagedKernelAgreesWithOpenBlasWhenBothAreAvailable()
    {
        if (!OpenBlas.TryLoad(out string? why))
        {
            Assert.Fail($"OpenBLAS is not installed here ({why}); tools/test.sh installs libopenblas0-pthread.");
            return;
        }
        int m = 64, n = 2304, k = 768;
        var a = Random(m * k, 7); var b = Random(k * n, 8);
        var blas = new float[m * n]; var managed = new float[m * n];
        OpenBlas.Sgemm(false, false, m, n, k, a, k, b, n, 0f, blas, n);
        ManagedGemm.Multiply(false, false, m, n, k, a, k, b, n, 0f, managed, n);
        AssertClose(blas, managed, k);
    }

    [Fact]
    public void TensorOverloadChecksInnerDimensions()
    {
        var a = Tensor.From([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = Tensor.From([1f, 0f, 0f, 1f, 1f, 1f], 3, 2);
        var c = Gemm.Multiply(a, b);
        Assert.Equal([4f, 5f, 10f, 11f], c.Span.ToArray());
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, a));
        Assert.Equal([14f, 32f, 32f, 77f], Gemm.Multiply(a, a, transB: true).Span.ToArray());
    }
}
