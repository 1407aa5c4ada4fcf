using IoiBench.Numerics;

namespace IoiBench.Edits;

/// <summary>
/// An edit in a subspace of a node's activations: the interchange x' = x + P(x_cf − x), with P the orthogonal
/// projector onto the span of orthonormal directions b_1 … b_n (P = Σ b_i b_iᵀ): x keeps its part outside the subspace
/// and takes the counterfactual activation's part inside it. Its weight removed is the share of the centred clean
/// activation that lies in the subspace, ⟨P(x − μ), x − μ⟩ / ‖x − μ‖² = Σ (b_i·(x − μ))² / ‖x − μ‖², the quantity an SAE
/// edit's weight measures for the latents it removes.
/// </summary>
public static class SubspaceEdit
{
    /// <param name="directions">[n, d], orthonormal rows.</param>
    public static void Interchange(ReadOnlySpan<float> clean, ReadOnlySpan<float> counterfactual, Tensor directions, Span<float> edited)
    {
        clean.CopyTo(edited);
        for (int i = 0; i < directions.Shape[0]; i++)
        {
            var b = directions.Row(i);
            double along = 0;
            for (int c = 0; c < b.Length; c++) along += (double)b[c] * (counterfactual[c] - clean[c]);
            for (int c = 0; c < b.Length; c++) edited[c] += (float)(along * b[c]);
        }
    }

    /// <summary>Σ (b_i·(x − μ))² / ‖x − μ‖²; 0 when x is the mean.</summary>
    public static double WeightRemoved(ReadOnlySpan<float> clean, ReadOnlySpan<float> mean, Tensor directions)
    {
        double norm = 0;
        for (int c = 0; c < clean.Length; c++) norm += (double)(clean[c] - mean[c]) * (clean[c] - mean[c]);
        if (norm == 0) return 0;
        double inside = 0;
        for (int i = 0; i < directions.Shape[0]; i++)
        {
            var b = directions.Row(i);
            double along = 0;
            for (int c = 0; c < b.Length; c++) along += (double)b[c] * (clean[c] - mean[c]);
            inside += along * along;
        }
        return inside / norm;
    }

    /// <summary>
    /// Gram–Schmidt in double precision: the rows made orthonormal in order. A row (numerically) inside the span of
    /// the ones before it is an error: the subspace would have fewer dimensions than asked for.
    /// </summary>
    public static Tensor Orthonormal(Tensor rows)
    {
        int n = rows.Shape[0], d = rows.Shape[1];
        var basis = new double[n][];
        var result = new Tensor(n, d);
        for (int i = 0; i < n; i++)
        {
            var v = rows.Row(i).ToArray().Select(x => (double)x).ToArray();
            double original = Math.Sqrt(v.Sum(x => x * x));
            for (int j = 0; j < i; j++)
            {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += v[c] * basis[j][c];
                for (int c = 0; c < d; c++) v[c] -= dot * basis[j][c];
            }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            if (!(norm > 1e-9 * original)) throw new ArgumentException($"direction {i} lies in the span of the ones before it.");
            basis[i] = [.. v.Select(x => x / norm)];
            for (int c = 0; c < d; c++) result.Row(i)[c] = (float)basis[i][c];
        }
        return result;
    }
}
