using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Model;

/// <summary>
/// GPT-2 inference on float buffers: pre-LayerNorm blocks, causal multi-head attention, gelu_new MLP,
/// unembedding at requested positions only. Per-head q/k/v/z and attention patterns can be read and
/// overwritten through a <see cref="HookSet"/>. Works on raw or processed weights alike (a folded
/// LayerNorm only normalises; a processed unembedding carries a bias).
/// </summary>
public sealed class Gpt2Model(Gpt2Weights weights) : ITransformer
{
    public Gpt2Weights Weights { get; } = weights;
    public Gpt2Config Config => Weights.Config;

    /// <summary>Nothing to free: the CPU's weights are managed memory.</summary>
    public void Dispose() { }

    public Tensor Forward(TokenBatch tokens, ReadOnlySpan<int> logitPositions, HookSet? hooks = null)
    {
        var cfg = Config;
        int batch = tokens.Batch, seqLen = tokens.SeqLen, rows = batch * seqLen, d = cfg.DModel;
        Prepare(cfg, tokens, logitPositions, hooks);

        // Working buffers come from the shared pool (and may be longer than asked): fresh ones cost page faults and
        // garbage collections, which would dominate a pass that starts near the last layer.
        var pool = System.Buffers.ArrayPool<float>.Shared;
        float[] residual = pool.Rent(rows * d), normed = pool.Rent(rows * d), qkv = pool.Rent(rows * 3 * d), z = pool.Rent(rows * d),
            hidden = pool.Rent(rows * cfg.DMlp), output = pool.Rent(rows * d);
        try
        {
            if (hooks?.Start is { } start) start.Residual.CopyTo(residual, 0);
            else Embed(Weights, tokens, residual);
            RunLayers(tokens, hooks, residual, normed, qkv, z, hidden, output);
            return Unembed(residual, logitPositions, batch, seqLen);
        }
        finally
        {
            foreach (var buffer in (float[][])[residual, normed, qkv, z, hidden, output]) pool.Return(buffer);
        }
    }

    private void RunLayers(TokenBatch tokens, HookSet? hooks, float[] residual, float[] normed, float[] qkv, float[] z, float[] hidden,
        float[] output)
    {
        var cfg = Config;
        int batch = tokens.Batch, seqLen = tokens.SeqLen, rows = batch * seqLen, d = cfg.DModel;
        for (int layer = hooks?.Start?.Layer ?? 0; layer < cfg.NLayer; layer++)
        {
            foreach (var capture in hooks?.ResidualCaptures ?? [])
                if (capture.Layer == layer) residual.AsSpan(0, rows * d).CopyTo(capture.Values);
            ApplyHooks(cfg, hooks, layer, residual, d, seqLen, HookPoint.ResidPre);
            var block = Weights.Blocks[layer];
            LayerNorm(residual, block.Ln1, normed, rows);
            Linear(normed, block.AttnWeight, block.AttnBias, qkv, rows, d, 3 * d, accumulate: false);
            ApplyHooks(cfg, hooks, layer, qkv, 3 * d, seqLen, HookPoint.Q, HookPoint.K, HookPoint.V);
            Attention(layer, qkv, z, batch, seqLen, hooks);
            ApplyHooks(cfg, hooks, layer, z, d, seqLen, HookPoint.Z);
            AddSublayer(hooks, layer, HookPoint.AttnOut, z, block.AttnOutWeight, block.AttnOutBias, residual, output, rows, d, seqLen);
            ApplyHooks(cfg, hooks, layer, residual, d, seqLen, HookPoint.ResidMid);

            LayerNorm(residual, block.Ln2, normed, rows);
            Linear(normed, block.MlpInWeight, block.MlpInBias, hidden, rows, d, cfg.DMlp, accumulate: false);
            TransformerOps.GeluNew(hidden, rows * cfg.DMlp);
            AddSublayer(hooks, layer, HookPoint.MlpOut, hidden, block.MlpOutWeight, block.MlpOutBias, residual, output, rows, cfg.DMlp, seqLen);
            ApplyHooks(cfg, hooks, layer, residual, d, seqLen, HookPoint.ResidPost);
        }
    }

    /// <summary>
    /// residual += input·W + b, the attention's or the MLP's output. With hooks on that output it is formed on its own
    /// first, read or overwritten, then added; without, it is accumulated straight into the residual stream.
    /// </summary>
    private void AddSublayer(HookSet? hooks, int layer, HookPoint point, float[] input, Tensor weight, Tensor bias, float[] residual,
        float[] output, int rows, int inDim, int seqLen)
    {
        int d = Config.DModel;
        if (hooks?.Hooks(layer, point) != true)
        {
            Linear(input, weight, bias, residual, rows, inDim, d, accumulate: true);
            return;
        }
        Linear(input, weight, bias, output, rows, inDim, d, accumulate: false);
        ApplyHooks(Config, hooks, layer, output, d, seqLen, point);
        TensorPrimitives.Add(residual.AsSpan(0, rows * d), output.AsSpan(0, rows * d), residual.AsSpan(0, rows * d));
    }

    /// <summary>
    /// Checks a forward pass's inputs against the model (sequence length, token ids, logit and hook positions, patch
    /// sizes) and sizes the captures' buffers: every <see cref="ITransformer"/> starts here.
    /// </summary>
    internal static void Prepare(Gpt2Config cfg, TokenBatch tokens, ReadOnlySpan<int> logitPositions, HookSet? hooks)
    {
        int batch = tokens.Batch, seqLen = tokens.SeqLen;
        if (seqLen > cfg.NPositions)
            throw new ArgumentException($"Sequences of {seqLen} tokens exceed the model's {cfg.NPositions} positions.");
        if (logitPositions.Length % batch != 0)
            throw new ArgumentException($"{logitPositions.Length} logit positions cannot be split evenly over {batch} prompts.");
        foreach (int p in logitPositions)
            if ((uint)p >= (uint)seqLen) throw new ArgumentOutOfRangeException(nameof(logitPositions), $"Logit position {p} is outside a sequence of {seqLen} tokens.");
        foreach (int id in tokens.Ids)
            if ((uint)id >= (uint)cfg.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"Token id {id} is outside the vocabulary of {cfg.VocabSize}.");
        hooks?.Validate(cfg, batch, seqLen);
        foreach (var capture in hooks?.Captures ?? [])
        {
            capture.Width = HookSet.WidthOf(capture.Hook, cfg, seqLen);
            capture.Values = new float[batch * capture.Width];
        }
        foreach (var capture in hooks?.ResidualCaptures ?? []) capture.Values = new float[batch * seqLen * cfg.DModel];
    }

    /// <summary>x = the tokens' embeddings plus their positions', row by row.</summary>
    internal static void Embed(Gpt2Weights weights, TokenBatch tokens, float[] x)
    {
        int d = weights.Config.DModel;
        for (int i = 0; i < tokens.Ids.Length; i++)
            TensorPrimitives.Add(weights.TokenEmbedding.Row(tokens.Ids[i]), weights.PositionEmbedding.Row(i % tokens.SeqLen), x.AsSpan(i * d, d));
    }

    private void LayerNorm(float[] input, LayerNormParams? ln, float[] output, int rows)
    {
        int d = Config.DModel;
        for (int r = 0; r < rows; r++)
            TransformerOps.LayerNorm(input.AsSpan(r * d, d), ln, Config.LayerNormEpsilon, output.AsSpan(r * d, d));
    }

    /// <summary>output (=|+=) input·W + b, with W in Conv1D layout [inDim, outDim].</summary>
    internal static void Linear(float[] input, Tensor weight, Tensor bias, float[] output, int rows, int inDim, int outDim, bool accumulate)
    {
        var b = bias.Span;
        for (int r = 0; r < rows; r++)
        {
            var row = output.AsSpan(r * outDim, outDim);
            if (accumulate) TensorPrimitives.Add(row, b, row);
            else b.CopyTo(row);
        }
        Gemm.Multiply(input, weight.Span, output, rows, outDim, inDim, beta: 1f);
    }

    /// <summary>
    /// The patches, then the captures, at <paramref name="points"/> of this layer in a [rows, rowStride] buffer: a
    /// head's slice of q/k/v/z, every head's, or a residual-stream vector (<see cref="HookColumns"/>).
    /// </summary>
    internal static void ApplyHooks(Gpt2Config config, HookSet? hooks, int layer, float[] buffer, int rowStride, int seqLen, params HookPoint[] points)
    {
        if (hooks is null) return;
        foreach (var patch in hooks.Patches)
            if (patch.Hook.Layer == layer && points.Contains(patch.Hook.Point))
            {
                var (column, width) = HookColumns(patch.Hook, config);
                for (int b = 0; b < patch.Positions.Length; b++)
                    patch.Values.AsSpan(b * width, width).CopyTo(buffer.AsSpan((b * seqLen + patch.Positions[b]) * rowStride + column, width));
            }

        foreach (var capture in hooks.Captures)
            if (capture.Hook.Layer == layer && points.Contains(capture.Hook.Point))
            {
                var (column, width) = HookColumns(capture.Hook, config);
                for (int b = 0; b < capture.Positions.Length; b++)
                    buffer.AsSpan((b * seqLen + capture.Positions[b]) * rowStride + column, width).CopyTo(capture.Values.AsSpan(b * width, width));
            }
    }

    /// <summary>
    /// Where a hook's vector sits in its buffer's row: q, k and v in the fused [q | k | v] projection, head-major; z
    /// head-major in [rows, d_model]; a whole layer's heads or a residual-stream vector spanning d_model.
    /// </summary>
    internal static (int Column, int Width) HookColumns(HeadHook hook, Gpt2Config config)
    {
        int d = config.DModel;
        int start = hook.Point == HookPoint.K ? d : hook.Point == HookPoint.V ? 2 * d : 0;
        return hook.WholeLayer ? (start, d) : (start + hook.Head * config.DHead, config.DHead);
    }

    /// <summary>Causal softmax attention per (prompt, head); z is written head-major into [rows, d].</summary>
    private void Attention(int layer, float[] qkv, float[] z, int batch, int seqLen, HookSet? hooks)
    {
        int d = Config.DModel, dHead = Config.DHead, nHead = Config.NHead;
        var patternPatches = hooks?.Patches.Where(p => p.Hook.Layer == layer && p.Hook.Point == HookPoint.Pattern).ToArray() ?? [];
        var patternCaptures = hooks?.Captures.Where(c => c.Hook.Layer == layer && c.Hook.Point == HookPoint.Pattern).ToArray() ?? [];

        Parallel.For(0, batch * nHead, item =>
        {
            int b = item / nHead, h = item % nHead;
            Span<float> pattern = stackalloc float[seqLen];
            for (int i = 0; i < seqLen; i++)
            {
                var weights = pattern[..(i + 1)];
                TransformerOps.AttentionWeights(qkv, d, dHead, h, b * seqLen, i, weights);
                pattern[(i + 1)..].Clear();

                foreach (var patch in patternPatches)
                    if (patch.Hook.Head == h && patch.Positions[b] == i)
                        patch.Values.AsSpan(b * seqLen, i + 1).CopyTo(weights);
                foreach (var capture in patternCaptures)
                    if (capture.Hook.Head == h && capture.Positions[b] == i)
                        pattern.CopyTo(capture.Values.AsSpan(b * seqLen, seqLen));

                TransformerOps.AttendValues(qkv, d, dHead, h, b * seqLen, weights, z.AsSpan((b * seqLen + i) * d + h * dHead, dHead));
            }
        });
    }

    private Tensor Unembed(float[] residual, ReadOnlySpan<int> logitPositions, int batch, int seqLen)
    {
        int d = Config.DModel, count = logitPositions.Length;
        int perPrompt = count / batch;
        var normed = new float[count * d];
        for (int r = 0; r < count; r++)
        {
            int row = r / perPrompt * seqLen + logitPositions[r];
            TransformerOps.LayerNorm(residual.AsSpan(row * d, d), Weights.LnFinal, Config.LayerNormEpsilon, normed.AsSpan(r * d, d));
        }
        return Logits(Weights, normed, count);
    }

    /// <summary>The logits [count, vocab] of <paramref name="count"/> rows after the final LayerNorm: normed·W_Uᵀ (+ b_U once processed).</summary>
    internal static Tensor Logits(Gpt2Weights weights, float[] normed, int count)
    {
        int d = weights.Config.DModel, vocab = weights.Config.VocabSize;
        var logits = new Tensor(count, vocab);
        var output = logits.Span;
        if (weights.UnembeddingBias is { } bias)
            for (int r = 0; r < count; r++) bias.Span.CopyTo(output.Slice(r * vocab, vocab));
        Gemm.Multiply(normed, weights.Unembedding.Span, output, count, vocab, d, transB: true, beta: weights.UnembeddingBias is null ? 0f : 1f);
        return logits;
    }
}
