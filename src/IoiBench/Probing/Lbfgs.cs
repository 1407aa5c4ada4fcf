namespace IoiBench.Probing;

/// <summary>
/// Limited-memory BFGS (Nocedal and Wright, Algorithm 7.4, two-loop recursion) with a backtracking Armijo line search,
/// for smooth convex objectives. Deterministic: no randomness, and the same arithmetic order on every run.
/// </summary>
public static class Lbfgs
{
    /// <summary>An objective: writes the gradient at x into the second argument and returns the value.</summary>
    public delegate double Function(double[] x, double[] gradient);

    public static (double[] X, double GradientNorm) Minimise(Function f, double[] start, int maxIterations, double tolerance, int memory = 10)
    {
        int size = start.Length;
        var x = (double[])start.Clone();
        var g = new double[size];
        double value = f(x, g);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var direction = new double[size];
        var candidate = new double[size];
        var candidateGradient = new double[size];
        for (int iteration = 0; iteration < maxIterations && MaxAbs(g) > tolerance; iteration++)
        {
            TwoLoop(g, s, y, direction);
            double slope = Dot(g, direction);
            if (slope >= 0)
            {
                // Not a descent direction (curvature pairs gone stale): restart from steepest descent.
                s.Clear(); y.Clear();
                for (int i = 0; i < size; i++) direction[i] = -g[i];
                slope = -Dot(g, g);
            }
            double step = s.Count == 0 ? Math.Min(1, 1 / Math.Sqrt(-slope)) : 1;
            double next;
            while (true)
            {
                for (int i = 0; i < size; i++) candidate[i] = x[i] + step * direction[i];
                next = f(candidate, candidateGradient);
                if (next <= value + 1e-4 * step * slope) break;
                step *= 0.5;
                if (step < 1e-12) return (x, MaxAbs(g));   // no decrease left within rounding: converged
            }
            var sk = new double[size];
            var yk = new double[size];
            for (int i = 0; i < size; i++) { sk[i] = candidate[i] - x[i]; yk[i] = candidateGradient[i] - g[i]; }
            if (Dot(sk, yk) > 1e-12)
            {
                s.Add(sk); y.Add(yk);
                if (s.Count > memory) { s.RemoveAt(0); y.RemoveAt(0); }
            }
            bool stalled = value - next <= 1e-10 * Math.Max(1, Math.Abs(value));
            (x, candidate) = (candidate, x);
            (g, candidateGradient) = (candidateGradient, g);
            value = next;
            if (stalled) break;
        }
        return (x, MaxAbs(g));
    }

    /// <summary>direction = −H·g, with H the L-BFGS inverse-Hessian approximation from the stored pairs.</summary>
    private static void TwoLoop(double[] g, List<double[]> s, List<double[]> y, double[] direction)
    {
        int m = s.Count;
        var alpha = new double[m];
        for (int i = 0; i < g.Length; i++) direction[i] = -g[i];
        for (int k = m - 1; k >= 0; k--)
        {
            alpha[k] = Dot(s[k], direction) / Dot(y[k], s[k]);
            Axpy(-alpha[k], y[k], direction);
        }
        if (m > 0)
        {
            double gamma = Dot(s[m - 1], y[m - 1]) / Dot(y[m - 1], y[m - 1]);
            for (int i = 0; i < direction.Length; i++) direction[i] *= gamma;
        }
        for (int k = 0; k < m; k++)
        {
            double beta = Dot(y[k], direction) / Dot(y[k], s[k]);
            Axpy(alpha[k] - beta, s[k], direction);
        }
    }

    private static double Dot(double[] a, double[] b) => System.Numerics.Tensors.TensorPrimitives.Dot<double>(a, b);

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }

    private static double MaxAbs(double[] v) => v.Length == 0 ? 0 : Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<double>(v));
}
