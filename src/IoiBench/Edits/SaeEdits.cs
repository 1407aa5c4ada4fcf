using IoiBench.Numerics;
using IoiBench.Saes;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Edits;

/// <summary>An edit of a batch of activations [prompts, d] and, per prompt, the latents whose clean value it removed.</summary>
public sealed record SaeEdit(Tensor Edited, int[][] Removed);

/// <summary>
/// The two SAE edits (docs/method.md, "Edits"), on one node's activations in the SAE's normalised space. m(x) are the
/// latent magnitudes (<see cref="SparseAutoencoder.Encode"/>), d_j the rows of W_dec.
/// </summary>
public static class SaeEdits
{
    /// <summary>
    /// Interpretation-agnostic edit: with target δ = a_cf − a_clean and candidates c_j = (m_j(a_cf) − m_j(a_clean))·d_j,
    /// <paramref name="n"/> times pick j* = argmin_j ‖S + c_j − δ‖ (S from 0; ties to the lowest j), add c_j* to S and
    /// zero it. Edited = a_clean + S: each pick sets one latent to its counterfactual value. Removed: the picks whose
    /// clean magnitude is non-zero.
    /// </summary>
    public static SaeEdit Greedy(SparseAutoencoder sae, Tensor clean, Tensor counterfactual, int n)
    {
        int prompts = clean.Shape[0], d = sae.DIn, w = sae.DSae;
        var mClean = sae.Encode(clean);
        var mCf = sae.Encode(counterfactual);
        var wDec = sae.Parameters["W_dec"];
        var rowNorms = new double[w];
        for (int j = 0; j < w; j++) rowNorms[j] = TensorPrimitives.SumOfSquares(wDec.Row(j));

        // R = S − δ starts at a_clean − a_cf; ‖R + c_j‖² = ‖R‖² + 2·Δm_j·⟨d_j, R⟩ + Δm_j²·‖d_j‖², so only the last two
        // terms rank the candidates, and ⟨d_j, R⟩ for every prompt and latent is one product R·W_decᵀ per pick.
        var residual = clean.Clone();
        TensorPrimitives.Subtract(residual.Span, counterfactual.Span, residual.Span);
        var change = mCf.Clone();
        TensorPrimitives.Subtract(change.Span, mClean.Span, change.Span);
        var edited = clean.Clone();
        var picks = Enumerable.Range(0, prompts).Select(_ => new List<int>(n)).ToArray();
        var projection = new Tensor(prompts, w);
        for (int step = 0; step < n; step++)
        {
            Gemm.Multiply(residual.Span, wDec.Span, projection.Span, prompts, w, d, transB: true);
            for (int p = 0; p < prompts; p++)
            {
                var c = change.Row(p);
                var r = projection.Row(p);
                int best = 0;
                double bestScore = double.PositiveInfinity;
                for (int j = 0; j < w; j++)
                {
                    double score = 2.0 * c[j] * r[j] + (double)c[j] * c[j] * rowNorms[j];
                    if (score < bestScore) { bestScore = score; best = j; }
                }
                TensorPrimitives.MultiplyAdd(wDec.Row(best), c[best], residual.Row(p), residual.Row(p));
                TensorPrimitives.MultiplyAdd(wDec.Row(best), c[best], edited.Row(p), edited.Row(p));
                c[best] = 0;
                if (mClean.Row(p)[best] != 0 && !picks[p].Contains(best)) picks[p].Add(best);
            }
        }
        var removed = picks.Select(list => list.ToArray()).ToArray();
        return new SaeEdit(edited, removed);
    }

    /// <summary>
    /// Interpretation-aware edit: remove the first <paramref name="n"/> latents of the clean value's F1 ranking that are
    /// active in the clean activation, add the first n of the counterfactual value's ranking that are active in the
    /// counterfactual one: edited = a_clean − Σ_remove m_j(a_clean)·d_j + Σ_add m_j(a_cf)·d_j. With fewer than n active
    /// latents the missing slots do nothing (the reference pads with inactive latents, whose coefficient is 0). A latent
    /// is active when its magnitude is non-zero, or, with <paramref name="activeIfPositive"/> (the reference's convention),
    /// above 0: the two differ only for SAEs whose magnitudes can be negative.
    /// </summary>
    public static SaeEdit ByF1(SparseAutoencoder sae, Tensor clean, Tensor counterfactual, IReadOnlyList<string> cleanValues,
        IReadOnlyList<string> counterfactualValues, F1Ranking ranking, int n, bool activeIfPositive = false)
    {
        int prompts = clean.Shape[0];
        var mClean = sae.Encode(clean);
        var mCf = sae.Encode(counterfactual);
        var wDec = sae.Parameters["W_dec"];
        var edited = clean.Clone();
        var removed = new int[prompts][];
        for (int p = 0; p < prompts; p++)
        {
            var remove = ranking.FirstActive(cleanValues[p], mClean.Row(p), n, activeIfPositive);
            var add = ranking.FirstActive(counterfactualValues[p], mCf.Row(p), n, activeIfPositive);
            foreach (int j in remove) TensorPrimitives.MultiplyAdd(wDec.Row(j), -mClean.Row(p)[j], edited.Row(p), edited.Row(p));
            foreach (int j in add) TensorPrimitives.MultiplyAdd(wDec.Row(j), mCf.Row(p)[j], edited.Row(p), edited.Row(p));
            removed[p] = remove;
        }
        return new SaeEdit(edited, removed);
    }

    /// <summary>
    /// Each latent's weight in the clean reconstruction x̂: w_j = m_j·⟨d_j, x̂ − b_dec⟩ / ‖x̂ − b_dec‖² (the weights sum
    /// to 1; all NaN when x̂ = b_dec), and the weight removed by an edit, Σ w_j over its removed latents, per prompt.
    /// </summary>
    public static double[] WeightRemoved(SparseAutoencoder sae, Tensor clean, int[][] removed)
    {
        var latents = sae.Encode(clean);
        var reconstruction = sae.Decode(latents);
        var bDec = sae.Parameters["b_dec"].Span;
        var wDec = sae.Parameters["W_dec"];
        var result = new double[clean.Shape[0]];
        var centred = new float[sae.DIn];
        for (int p = 0; p < result.Length; p++)
        {
            TensorPrimitives.Subtract(reconstruction.Row(p), bDec, centred);
            double norm2 = TensorPrimitives.Dot(centred, centred);
            result[p] = removed[p].Sum(j => latents.Row(p)[j] * (double)TensorPrimitives.Dot(wDec.Row(j), centred)) / norm2;
            if (norm2 == 0) result[p] = double.NaN;
        }
        return result;
    }
}
