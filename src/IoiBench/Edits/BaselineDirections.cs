using IoiBench.Dictionaries;
using IoiBench.Numerics;
using IoiBench.Probing;
using IoiBench.Prompts;

namespace IoiBench.Edits;

/// <summary>
/// The subspaces of the baseline edits at one node (<see cref="SubspaceEdit"/>), each [n, d] with orthonormal rows.
/// None of them looks at the test prompts: they come from the train split, its supervised dictionary, or a seed.
/// </summary>
public static class BaselineDirections
{
    /// <summary>DiffMean: the unit vector along u[to] − u[from], the supervised dictionary's two codes.</summary>
    public static Tensor DiffMean(SupervisedDictionary dictionary, IoiAttribute attribute, string from, string to)
    {
        var difference = new Tensor(1, dictionary.Dimension);
        System.Numerics.Tensors.TensorPrimitives.Subtract(dictionary.Code(attribute, to), dictionary.Code(attribute, from), difference.Row(0));
        return SubspaceEdit.Orthonormal(difference);
    }

    /// <summary>
    /// The top-<paramref name="n"/> principal directions of the rows: the leading eigenvectors of their covariance
    /// (<paramref name="centre"/>) or of their second moment about 0 (for differences, whose mean is part of the signal).
    /// </summary>
    public static Tensor Principal(Tensor rows, int n, bool centre)
    {
        int count = rows.Shape[0], d = rows.Shape[1];
        var x = rows.Clone();
        if (centre)
        {
            var mean = new float[d];
            for (int p = 0; p < count; p++) System.Numerics.Tensors.TensorPrimitives.Add(mean, x.Row(p), mean);
            System.Numerics.Tensors.TensorPrimitives.Divide(mean, count, mean);
            for (int p = 0; p < count; p++) System.Numerics.Tensors.TensorPrimitives.Subtract(x.Row(p), mean, x.Row(p));
        }
        return TopEigenvectors(Gemm.Multiply(x, x, transA: true), n);
    }

    /// <summary>
    /// The top-<paramref name="n"/> left singular vectors of a multinomial logistic-regression probe's weights for the
    /// attribute, in the activations' own coordinates (<see cref="LogisticRegression.InputWeights"/>): the directions the
    /// probe reads the attribute along. With two classes the weights have rank one, and a second direction is the
    /// next singular vector of a rank-one matrix (arbitrary within the rest).
    /// </summary>
    public static Tensor Probe(Tensor train, IReadOnlyList<int> labels, int classes, int n)
    {
        var weights = LogisticRegression.Fit(train, labels, classes).InputWeights();
        return TopEigenvectors(Gemm.Multiply(weights, weights, transB: true), n);
    }

    /// <summary>n directions of independent Gaussian entries, orthonormalised: a uniformly random n-dimensional subspace.</summary>
    public static Tensor Random(int d, int n, DeterministicRandom random)
    {
        var rows = new Tensor(n, d);
        for (int i = 0; i < rows.Buffer.Length; i++) rows.Buffer[i] = (float)random.NextGaussian();
        return SubspaceEdit.Orthonormal(rows);
    }

    /// <summary>
    /// The leading eigenvectors of a symmetric positive semi-definite d×d matrix: its right singular vectors (Jacobi
    /// SVD in double), which stay an orthonormal basis where the eigenvalues are 0.
    /// </summary>
    private static Tensor TopEigenvectors(Tensor symmetric, int n)
    {
        int d = symmetric.Shape[0];
        var (_, _, v) = Linalg.Svd([.. symmetric.Span.ToArray().Select(x => (double)x)], d);
        var top = new Tensor(n, d);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < d; c++) top.Row(i)[c] = (float)v[c * d + i];
        return top;
    }
}
