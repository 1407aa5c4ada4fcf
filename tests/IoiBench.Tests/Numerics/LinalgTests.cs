using IoiBench.Numerics;

namespace IoiBench.Tests.Numerics;

public class LinalgTests
{
    private static double[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    private static double[] MatMul(double[] x, double[] y, int m, int k, int n, bool transY = false)
    {
        var z = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int t = 0; t < k; t++)
                    z[i * n + j] += x[i * k + t] * (transY ? y[j * k + t] : y[t * n + j]);
        return z;
    }

    private static void AssertOrthonormalColumns(double[] q, int m, int n)
    {
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                double dot = 0;
                for (int i = 0; i < m; i++) dot += q[i * n + a] * q[i * n + b];
                Assert.Equal(a == b ? 1.0 : 0.0, dot, 1e-10);
            }
    }

    [Fact]
    public void ThinQrReconstructsWithOrthonormalQAndTriangularR()
    {
        int m = 9, n = 4;
        var a = Random(m * n, 1);
        var (q, r) = Linalg.ThinQr(a, m, n);
        AssertOrthonormalColumns(q, m, n);
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++) Assert.Equal(0.0, r[i * n + j]);
        var back = MatMul(q, r, m, n, n);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], back[i], 1e-12);
    }

    [Fact]
    public void SvdOfAKnownMatrix()
    {
        // [[3, 0], [4, 5]] has singular values √45 and √5.
        var (u, s, v) = Linalg.Svd([3, 0, 4, 5], 2);
        Assert.Equal(Math.Sqrt(45), s[0], 1e-12);
        Assert.Equal(Math.Sqrt(5), s[1], 1e-12);
        AssertOrthonormalColumns(u, 2, 2);
        AssertOrthonormalColumns(v, 2, 2);
    }

    [Fact]
    public void SvdOfProductReconstructsTheProduct()
    {
        int m = 12, r = 3, n = 10;
        var a = Random(m * r, 2);
        var b = Random(r * n, 3);
        var (u, s, v) = Linalg.SvdOfProduct(a, m, r, b, n);
        AssertOrthonormalColumns(u, m, r);
        AssertOrthonormalColumns(v, n, r);
        Assert.True(s[0] >= s[1] && s[1] >= s[2] && s[2] > 0);
        var us = u.Select((x, i) => x * s[i % r]).ToArray();
        var product = MatMul(a, b, m, r, n);
        var rebuilt = MatMul(us, v, m, r, n, transY: true);
        for (int i = 0; i < product.Length; i++) Assert.Equal(product[i], rebuilt[i], 1e-10);
    }
}
