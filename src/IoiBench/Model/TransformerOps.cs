using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Model;

/// <summary>The element-wise pieces of the transformer: LayerNorm and GPT-2's tanh-approximate GELU.</summary>
public static class TransformerOps
{
    private const int GeluChunk = 4096;
    private static readonly float GeluC1 = MathF.Sqrt(2f / MathF.PI), GeluC3 = MathF.Sqrt(2f / MathF.PI) * 0.044715f;

    /// <summary>
    /// (x − mean)/√(var + eps), then ·weight + bias unless the LayerNorm was folded (null); returns 1/√(var + eps),
    /// which the backward pass needs.
    /// </summary>
    public static float LayerNorm(ReadOnlySpan<float> x, LayerNormParams? ln, float eps, Span<float> output)
    {
        float mean = TensorPrimitives.Sum(x) / x.Length;
        TensorPrimitives.Subtract(x, mean, output);
        float variance = TensorPrimitives.SumOfSquares(output) / x.Length;
        float invStd = 1f / MathF.Sqrt(variance + eps);
        TensorPrimitives.Multiply(output, invStd, output);
        if (ln is null) return invStd;
        TensorPrimitives.Multiply(output, ln.Weight.Span, output);
        TensorPrimitives.Add(output, ln.Bias.Span, output);
        return invStd;
    }

    /// <summary>
    /// Softmax that subtracts the maximum first, so large scores (sharp attention) cannot overflow.
    /// (TensorPrimitives.SoftMax exponentiates the raw values and returns NaN from about 89 upwards.)
    /// </summary>
    public static void SoftMax(ReadOnlySpan<float> x, Span<float> output)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, output);
        TensorPrimitives.Exp(output, output);
        TensorPrimitives.Divide(output, TensorPrimitives.Sum(output), output);
    }

    /// <summary>
    /// Causal attention's weights of query position i of one head over key positions 0…i: softmax(q_i·k_j/√d_head),
    /// from a fused [rows, q | k | v] buffer, head-major, whose row <paramref name="firstRow"/> is the prompt's first.
    /// </summary>
    public static void AttentionWeights(ReadOnlySpan<float> qkv, int dModel, int dHead, int head, int firstRow, int i, Span<float> weights)
    {
        int stride = 3 * dModel;
        float scale = 1f / MathF.Sqrt(dHead);
        var query = qkv.Slice((firstRow + i) * stride + head * dHead, dHead);
        for (int j = 0; j <= i; j++)
            weights[j] = TensorPrimitives.Dot(query, qkv.Slice((firstRow + j) * stride + dModel + head * dHead, dHead)) * scale;
        SoftMax(weights[..(i + 1)], weights[..(i + 1)]);
    }

    /// <summary>output = Σ_j weights[j]·v_j over key positions 0…i of one head (the layout of <see cref="AttentionWeights"/>).</summary>
    public static void AttendValues(ReadOnlySpan<float> qkv, int dModel, int dHead, int head, int firstRow, ReadOnlySpan<float> weights,
        Span<float> output)
    {
        int stride = 3 * dModel;
        output.Clear();
        for (int j = 0; j < weights.Length; j++)
            TensorPrimitives.MultiplyAdd(qkv.Slice((firstRow + j) * stride + 2 * dModel + head * dHead, dHead), weights[j], output, output);
    }

    /// <summary>In place on the first <paramref name="count"/> values: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), in parallel chunks.</summary>
    public static void GeluNew(float[] values, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, values.Length);
        int chunks = (count + GeluChunk - 1) / GeluChunk;
        Parallel.For(0, chunks, chunk =>
        {
            int start = chunk * GeluChunk;
            var x = values.AsSpan(start, Math.Min(GeluChunk, count - start));
            Span<float> t = stackalloc float[x.Length];
            TensorPrimitives.Multiply(x, x, t);                 // x²
            TensorPrimitives.Multiply(t, GeluC3, t);
            TensorPrimitives.Add(t, GeluC1, t);                 // c1 + c3·x²
            TensorPrimitives.Multiply(t, x, t);                 // c1·x + c3·x³
            TensorPrimitives.Tanh(t, t);
            TensorPrimitives.Multiply(x, 0.5f, x);              // x/2
            TensorPrimitives.MultiplyAdd(t, x, x, x);           // x/2·tanh + x/2
        });
    }
}
