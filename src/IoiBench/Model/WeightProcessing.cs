using IoiBench.Numerics;

namespace IoiBench.Model;

/// <summary>
/// Rewrites GPT-2 weights into TransformerLens's processed basis, in TransformerLens's order: fold LayerNorm,
/// center writing weights, center the unembedding, fold value biases, refactor the factored attention matrices
/// (SVD-balanced W_Q·W_Kᵀ with the biases as an extra input row; W_V·W_O with orthonormal W_O).
/// Next-token log-probabilities are unchanged; the per-head q/k/v/z coordinates are not (that is the point:
/// sites are read in the reference's basis). Singular-vector signs may differ from TransformerLens's, which
/// only flips coordinates.
/// </summary>
public static class WeightProcessing
{
    /// <summary>The raw weights in <paramref name="basis"/>: <see cref="ModelBasis.TransformerLens"/> stops before the refactor.</summary>
    public static Gpt2Weights Process(Gpt2Weights raw, ModelBasis basis = ModelBasis.Processed)
    {
        if (raw.Basis != ModelBasis.Raw) throw new InvalidOperationException("These weights are already processed.");
        if (basis == ModelBasis.Raw) throw new ArgumentException("the raw basis needs no processing.", nameof(basis));
        var w = raw.DeepClone(basis);
        FoldLayerNorms(w);
        CenterWritingWeights(w);
        CenterUnembedding(w);
        FoldValueBiases(w);
        if (basis == ModelBasis.Processed) RefactorAttention(w);
        return w;
    }

    /// <summary>
    /// LN(x)·W + b = norm(x)·(diag(γ)·W) + (β·W + b). The reading weights are then centred over their input
    /// dimension, which changes nothing because norm(x) has zero mean.
    /// </summary>
    private static void FoldLayerNorms(Gpt2Weights w)
    {
        foreach (var block in w.Blocks)
        {
            FoldInto(block.Ln1!, block.AttnWeight, block.AttnBias);
            FoldInto(block.Ln2!, block.MlpInWeight, block.MlpInBias);
            block.Ln1 = null;
            block.Ln2 = null;
        }

        // The unembedding is stored [vocab, d]: input dimension along rows.
        var ln = w.LnFinal!;
        int vocab = w.Config.VocabSize, d = w.Config.DModel;
        var bias = new Tensor(vocab);
        for (int v = 0; v < vocab; v++)
        {
            var row = w.Unembedding.Row(v);
            double shift = 0;
            for (int i = 0; i < d; i++) shift += ln.Bias.Span[i] * row[i];
            bias.Span[v] = (float)shift;
            for (int i = 0; i < d; i++) row[i] *= ln.Weight.Span[i];
            SubtractMean(row);
        }
        w.UnembeddingBias = bias;
        w.LnFinal = null;
    }

    private static void FoldInto(LayerNormParams ln, Tensor weight, Tensor bias)
    {
        int inDim = weight.Shape[0], outDim = weight.Shape[1];
        var wSpan = weight.Span;
        var extra = new double[outDim];
        for (int i = 0; i < inDim; i++)
        {
            float beta = ln.Bias.Span[i], gamma = ln.Weight.Span[i];
            var row = wSpan.Slice(i * outDim, outDim);
            for (int o = 0; o < outDim; o++) extra[o] += beta * row[o];
            for (int o = 0; o < outDim; o++) row[o] *= gamma;
        }
        for (int o = 0; o < outDim; o++) bias.Span[o] += (float)extra[o];

        var columnMean = new double[outDim];
        for (int i = 0; i < inDim; i++)
            for (int o = 0; o < outDim; o++) columnMean[o] += wSpan[i * outDim + o];
        for (int i = 0; i < inDim; i++)
            for (int o = 0; o < outDim; o++) wSpan[i * outDim + o] -= (float)(columnMean[o] / inDim);
    }

    /// <summary>Everything written to the residual stream loses its mean: the next LayerNorm removes it anyway.</summary>
    private static void CenterWritingWeights(Gpt2Weights w)
    {
        CenterRows(w.TokenEmbedding);
        CenterRows(w.PositionEmbedding);
        foreach (var block in w.Blocks)
        {
            CenterRows(block.AttnOutWeight);
            SubtractMean(block.AttnOutBias.Span);
            CenterRows(block.MlpOutWeight);
            SubtractMean(block.MlpOutBias.Span);
        }
    }

    /// <summary>Subtracting the mean over the vocabulary shifts every logit of a position by the same amount.</summary>
    private static void CenterUnembedding(Gpt2Weights w)
    {
        int vocab = w.Config.VocabSize, d = w.Config.DModel;
        var mean = new double[d];
        for (int v = 0; v < vocab; v++)
        {
            var row = w.Unembedding.Row(v);
            for (int i = 0; i < d; i++) mean[i] += row[i];
        }
        for (int v = 0; v < vocab; v++)
        {
            var row = w.Unembedding.Row(v);
            for (int i = 0; i < d; i++) row[i] -= (float)(mean[i] / vocab);
        }
        SubtractMean(w.UnembeddingBias!.Span);
    }

    /// <summary>Attention weights sum to 1, so b_V·W_O reaches the output unchanged: move it into b_O.</summary>
    private static void FoldValueBiases(Gpt2Weights w)
    {
        int d = w.Config.DModel;
        foreach (var block in w.Blocks)
        {
            var valueBias = block.AttnBias.Span.Slice(2 * d, d);
            for (int j = 0; j < d; j++)
                for (int o = 0; o < d; o++)
                    block.AttnOutBias.Span[o] += valueBias[j] * block.AttnOutWeight.Span[j * d + o];
            valueBias.Clear();
        }
    }

    private static void RefactorAttention(Gpt2Weights w)
    {
        int d = w.Config.DModel, dHead = w.Config.DHead;
        foreach (var block in w.Blocks)
            for (int h = 0; h < w.Config.NHead; h++)
            {
                RefactorQk(block, d, dHead, h * dHead, d + h * dHead);
                RefactorOv(block, d, dHead, h);
            }
    }

    /// <summary>
    /// [W_Q; b_Q]·[W_K; b_K]ᵀ = U·S·Vᵀ, then [W_Q; b_Q] = U·√S and [W_K; b_K] = V·√S: every query·key score is kept.
    /// </summary>
    private static void RefactorQk(Gpt2Block block, int d, int dHead, int qColumn, int kColumn)
    {
        int stride = 3 * d, rows = d + 1;
        var qEff = new double[rows * dHead];
        var kEffT = new double[dHead * rows];
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < dHead; c++)
            {
                qEff[i * dHead + c] = i < d ? block.AttnWeight.Span[i * stride + qColumn + c] : block.AttnBias.Span[qColumn + c];
                kEffT[c * rows + i] = i < d ? block.AttnWeight.Span[i * stride + kColumn + c] : block.AttnBias.Span[kColumn + c];
            }
        var (u, s, v) = Linalg.SvdOfProduct(qEff, rows, dHead, kEffT, rows);
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < dHead; c++)
            {
                double root = Math.Sqrt(s[c]);
                float q = (float)(u[i * dHead + c] * root), k = (float)(v[i * dHead + c] * root);
                if (i < d)
                {
                    block.AttnWeight.Span[i * stride + qColumn + c] = q;
                    block.AttnWeight.Span[i * stride + kColumn + c] = k;
                }
                else
                {
                    block.AttnBias.Span[qColumn + c] = q;
                    block.AttnBias.Span[kColumn + c] = k;
                }
            }
    }

    /// <summary>W_V·W_O = U·S·Vᵀ, then W_V = U·S and W_O = Vᵀ (orthonormal rows), so ‖z‖ equals the head's output norm.</summary>
    private static void RefactorOv(Gpt2Block block, int d, int dHead, int head)
    {
        int stride = 3 * d, vColumn = 2 * d + head * dHead, oRow = head * dHead;
        var wv = new double[d * dHead];
        var wo = new double[dHead * d];
        for (int i = 0; i < d; i++)
            for (int c = 0; c < dHead; c++) wv[i * dHead + c] = block.AttnWeight.Span[i * stride + vColumn + c];
        for (int c = 0; c < dHead; c++)
            for (int o = 0; o < d; o++) wo[c * d + o] = block.AttnOutWeight.Span[(oRow + c) * d + o];
        var (u, s, v) = Linalg.SvdOfProduct(wv, d, dHead, wo, d);
        for (int i = 0; i < d; i++)
            for (int c = 0; c < dHead; c++) block.AttnWeight.Span[i * stride + vColumn + c] = (float)(u[i * dHead + c] * s[c]);
        for (int c = 0; c < dHead; c++)
            for (int o = 0; o < d; o++) block.AttnOutWeight.Span[(oRow + c) * d + o] = (float)v[o * dHead + c];
    }

    private static void CenterRows(Tensor matrix)
    {
        for (int r = 0; r < matrix.Shape[0]; r++) SubtractMean(matrix.Row(r));
    }

    private static void SubtractMean(Span<float> values)
    {
        double sum = 0;
        foreach (float x in values) sum += x;
        float mean = (float)(sum / values.Length);
        for (int i = 0; i < values.Length; i++) values[i] -= mean;
    }
}
