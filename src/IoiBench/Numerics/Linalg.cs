namespace IoiBench.Numerics;

/// <summary>
/// Small dense linear algebra in double precision (row-major arrays): what the attention-matrix refactor
/// needs — Householder QR, one-sided Jacobi SVD, and the SVD of a low-rank product A·B without forming it.
/// </summary>
public static class Linalg
{
    /// <summary>Thin QR of an m×n matrix (m ≥ n): Q is m×n with orthonormal columns, R is n×n upper triangular.</summary>
    public static (double[] Q, double[] R) ThinQr(ReadOnlySpan<double> a, int m, int n)
    {
        if (m < n) throw new ArgumentException($"ThinQr needs m ≥ n, got {m}×{n}.");
        var work = a[..(m * n)].ToArray();
        var reflectors = new double[n][];
        for (int j = 0; j < n; j++)
        {
            var v = new double[m - j];
            double norm = 0;
            for (int i = j; i < m; i++) { v[i - j] = work[i * n + j]; norm += v[i - j] * v[i - j]; }
            norm = Math.Sqrt(norm);
            double alpha = v[0] >= 0 ? -norm : norm;
            v[0] -= alpha;
            double vNorm = 0;
            foreach (double x in v) vNorm += x * x;
            vNorm = Math.Sqrt(vNorm);
            if (vNorm > 0) for (int i = 0; i < v.Length; i++) v[i] /= vNorm;
            reflectors[j] = v;
            ApplyReflector(work, m, n, j, j, v);
        }

        var r = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
                r[i * n + j] = work[i * n + j];

        var q = new double[m * n];
        for (int i = 0; i < n; i++) q[i * n + i] = 1;
        for (int j = n - 1; j >= 0; j--) ApplyReflector(q, m, n, j, 0, reflectors[j]);
        return (q, r);
    }

    /// <summary>x[row0.., col0..] -= 2·v·(vᵀ·x[row0.., col0..]) for a unit Householder vector v.</summary>
    private static void ApplyReflector(double[] x, int m, int n, int row0, int col0, double[] v)
    {
        for (int c = col0; c < n; c++)
        {
            double dot = 0;
            for (int i = row0; i < m; i++) dot += v[i - row0] * x[i * n + c];
            dot *= 2;
            for (int i = row0; i < m; i++) x[i * n + c] -= dot * v[i - row0];
        }
    }

    /// <summary>
    /// SVD of a square n×n matrix A = U·diag(S)·Vᵀ by one-sided Jacobi rotations; S descending.
    /// U and V are n×n row-major with the singular vectors as columns.
    /// </summary>
    public static (double[] U, double[] S, double[] V) Svd(ReadOnlySpan<double> a, int n)
    {
        // Work on the transpose so that the columns being rotated are contiguous rows.
        var g = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                g[j * n + i] = a[i * n + j];
        var vt = new double[n * n];
        for (int i = 0; i < n; i++) vt[i * n + i] = 1;

        for (int sweep = 0; sweep < 100; sweep++)
        {
            double worst = 0;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < n; i++)
                    {
                        double gp = g[p * n + i], gq = g[q * n + i];
                        alpha += gp * gp; beta += gq * gq; gamma += gp * gq;
                    }
                    if (gamma == 0 || alpha == 0 || beta == 0) continue;
                    double off = Math.Abs(gamma) / Math.Sqrt(alpha * beta);
                    worst = Math.Max(worst, off);
                    if (off < 1e-15) continue;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta == 0 ? 1 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    double cos = 1 / Math.Sqrt(1 + t * t), sin = cos * t;
                    Rotate(g, n, p, q, cos, sin);
                    Rotate(vt, n, p, q, cos, sin);
                }
            if (worst < 1e-15) break;
        }

        var s = new double[n];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int j = 0; j < n; j++) norm += g[i * n + j] * g[i * n + j];
            s[i] = Math.Sqrt(norm);
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray();
        var u = new double[n * n];
        var v = new double[n * n];
        var sorted = new double[n];
        for (int c = 0; c < n; c++)
        {
            int src = order[c];
            sorted[c] = s[src];
            for (int i = 0; i < n; i++)
            {
                u[i * n + c] = s[src] > 0 ? g[src * n + i] / s[src] : 0;
                v[i * n + c] = vt[src * n + i];
            }
        }
        return (u, sorted, v);
    }

    private static void Rotate(double[] rows, int n, int p, int q, double cos, double sin)
    {
        for (int i = 0; i < n; i++)
        {
            double xp = rows[p * n + i], xq = rows[q * n + i];
            rows[p * n + i] = cos * xp - sin * xq;
            rows[q * n + i] = sin * xp + cos * xq;
        }
    }

    /// <summary>
    /// SVD of the rank-≤r product M = A·B (A m×r, B r×n, m ≥ r, n ≥ r) as M = U·diag(S)·Vᵀ with U m×r, V n×r:
    /// A = Q_A·R_A and Bᵀ = Q_B·R_B reduce it to the r×r core R_A·R_Bᵀ.
    /// </summary>
    public static (double[] U, double[] S, double[] V) SvdOfProduct(ReadOnlySpan<double> a, int m, int r, ReadOnlySpan<double> b, int n)
    {
        var bt = new double[n * r];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < n; j++)
                bt[j * r + i] = b[i * n + j];
        var (qa, ra) = ThinQr(a, m, r);
        var (qb, rb) = ThinQr(bt, n, r);
        var core = new double[r * r];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
            {
                double sum = 0;
                for (int t = 0; t < r; t++) sum += ra[i * r + t] * rb[j * r + t];
                core[i * r + j] = sum;
            }
        var (uc, s, vc) = Svd(core, r);
        return (MatMul(qa, uc, m, r, r), s, MatMul(qb, vc, n, r, r));
    }

    private static double[] MatMul(double[] x, double[] y, int m, int k, int n)
    {
        var z = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int t = 0; t < k; t++)
            {
                double xv = x[i * k + t];
                for (int j = 0; j < n; j++) z[i * n + j] += xv * y[t * n + j];
            }
        return z;
    }
}
