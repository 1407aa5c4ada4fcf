using IoiBench.Numerics;

namespace IoiBench.Probing;

/// <summary>
/// Multinomial (softmax) logistic regression with an L2 penalty on the weights (not the biases), fitted by L-BFGS on
/// features standardised with the training set's mean and standard deviation. Minimises
/// (1/n)·Σ_p −log softmax(x̃_p·W + b)[y_p] + (λ/2)·‖W‖², which is strictly convex, so the fit does not depend on a seed.
/// </summary>
public sealed class LogisticRegression
{
    private readonly float[] _mean, _inverseStd;
    private readonly float[] _weights;   // [(d + 1), classes], the bias in the last row

    public int Features => _mean.Length;
    public int Classes { get; }
    /// <summary>The final gradient's largest component (for convergence checks).</summary>
    public double GradientNorm { get; }

    private LogisticRegression(float[] mean, float[] inverseStd, float[] weights, int classes, double gradientNorm)
    {
        _mean = mean; _inverseStd = inverseStd; _weights = weights; Classes = classes; GradientNorm = gradientNorm;
    }

    /// <param name="features">[examples, d]</param>
    /// <param name="labels">class of each example, in [0, <paramref name="classes"/>)</param>
    public static LogisticRegression Fit(Tensor features, IReadOnlyList<int> labels, int classes, double l2 = 1e-3, int maxIterations = 300, double tolerance = 1e-5)
    {
        int n = features.Shape[0], d = features.Shape[1];
        if (labels.Count != n) throw new ArgumentException($"{n} examples for {labels.Count} labels.");
        if (n == 0 || classes < 1) throw new ArgumentException("Logistic regression needs examples and at least one class.");
        foreach (int y in labels)
            if ((uint)y >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), $"label {y} outside [0, {classes}).");

        var (mean, inverseStd) = Standardisation(features);
        var x = Design(features, mean, inverseStd);
        var objective = new Objective(x, labels, classes, l2);
        var (w, gradientNorm) = Lbfgs.Minimise(objective.Evaluate, new double[(d + 1) * classes], maxIterations, tolerance);
        return new LogisticRegression(mean, inverseStd, [.. w.Select(v => (float)v)], classes, gradientNorm);
    }

    /// <summary>The linear scores x̃·W + b, [examples, classes].</summary>
    public Tensor Logits(Tensor features)
    {
        if (features.Shape[1] != Features) throw new ArgumentException($"{features.Shape[1]} features for a probe of {Features}.");
        return Gemm.Multiply(Design(features, _mean, _inverseStd), Tensor.From(_weights, Features + 1, Classes));
    }

    /// <summary>
    /// The weights in the input's own coordinates, [d, classes]: the logits are x·(diag(1/σ)·W) plus a constant per
    /// class, so row i is W's row i divided by feature i's standard deviation.
    /// </summary>
    public Tensor InputWeights()
    {
        var weights = new Tensor(Features, Classes);
        for (int i = 0; i < Features; i++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(_weights.AsSpan(i * Classes, Classes), _inverseStd[i], weights.Row(i));
        return weights;
    }

    /// <summary>The most probable class of each example (ties to the lower class).</summary>
    public int[] Predict(Tensor features)
    {
        var logits = Logits(features);
        return [.. Enumerable.Range(0, logits.Shape[0]).Select(p => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Row(p)))];
    }

    private static (float[] Mean, float[] InverseStd) Standardisation(Tensor features)
    {
        int n = features.Shape[0], d = features.Shape[1];
        var sum = new double[d];
        var squares = new double[d];
        for (int p = 0; p < n; p++)
        {
            var row = features.Row(p);
            for (int i = 0; i < d; i++) { sum[i] += row[i]; squares[i] += (double)row[i] * row[i]; }
        }
        var mean = new float[d];
        var inverseStd = new float[d];
        for (int i = 0; i < d; i++)
        {
            double m = sum[i] / n, variance = Math.Max(squares[i] / n - m * m, 0);
            mean[i] = (float)m;
            inverseStd[i] = variance > 1e-12 ? (float)(1 / Math.Sqrt(variance)) : 0f;   // a constant feature carries nothing
        }
        return (mean, inverseStd);
    }

    /// <summary>The standardised features with a column of ones for the bias: [examples, d + 1].</summary>
    private static Tensor Design(Tensor features, float[] mean, float[] inverseStd)
    {
        int n = features.Shape[0], d = features.Shape[1];
        var x = new Tensor(n, d + 1);
        for (int p = 0; p < n; p++)
        {
            var row = x.Row(p);
            System.Numerics.Tensors.TensorPrimitives.Subtract(features.Row(p), mean, row[..d]);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row[..d], inverseStd, row[..d]);
            row[d] = 1;
        }
        return x;
    }

    /// <summary>The penalised mean cross-entropy and its gradient, with the products in float32 and the sums in double.</summary>
    private sealed class Objective(Tensor x, IReadOnlyList<int> labels, int classes, double l2)
    {
        private readonly int _n = x.Shape[0], _d = x.Shape[1] - 1;
        private readonly Tensor _weights = new(x.Shape[1], classes);

        public double Evaluate(double[] w, double[] gradient)
        {
            for (int i = 0; i < w.Length; i++) _weights.Buffer[i] = (float)w[i];
            var logits = Gemm.Multiply(x, _weights);
            double loss = 0;
            for (int p = 0; p < _n; p++)
            {
                // Row p becomes (softmax − one-hot) / n, the gradient with respect to the logits.
                var row = logits.Row(p);
                float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
                System.Numerics.Tensors.TensorPrimitives.Subtract(row, max, row);
                System.Numerics.Tensors.TensorPrimitives.Exp(row, row);
                double sum = System.Numerics.Tensors.TensorPrimitives.Sum(row);
                loss += Math.Log(sum) - Math.Log(row[labels[p]]);
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, (float)(1 / (sum * _n)), row);
                row[labels[p]] -= 1f / _n;
            }
            var g = Gemm.Multiply(x, logits, transA: true);
            double penalty = 0;
            for (int i = 0; i < w.Length; i++)
            {
                bool bias = i / classes == _d;
                gradient[i] = g.Buffer[i] + (bias ? 0 : l2 * w[i]);
                if (!bias) penalty += w[i] * w[i];
            }
            return loss / _n + l2 / 2 * penalty;
        }
    }
}
