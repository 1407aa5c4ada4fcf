using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Model;

/// <summary>
/// GPT-2's forward pass keeping what its backward pass needs, and that backward pass: the gradient of a loss on the
/// logits with respect to the activations at a <see cref="HookSet"/>'s captures and patches, through every layer after
/// them. No weight gradients: the model is fixed, only what is patched into it is learned (DAS, docs/edits.md). The
/// forward is <see cref="Gpt2Model"/>'s, step for step, on the same hooks (attention patterns excepted); a patched
/// value is a constant, so nothing flows through it to what would have produced it.
/// </summary>
public sealed class Gpt2Backprop(Gpt2Weights weights)
{
    public Gpt2Config Config => weights.Config;

    /// <summary>Runs the batch as <see cref="Gpt2Model.Forward"/> would and keeps the activations of each layer.</summary>
    public BackpropPass Forward(TokenBatch tokens, int[] logitPositions, HookSet hooks)
    {
        if (hooks.Patches.Any(p => p.Hook.Point == HookPoint.Pattern) || hooks.Captures.Any(c => c.Hook.Point == HookPoint.Pattern))
            throw new NotSupportedException("The backward pass does not take gradients at attention patterns.");
        Gpt2Model.Prepare(Config, tokens, logitPositions, hooks);
        var pass = new BackpropPass(weights, tokens, logitPositions, hooks);
        pass.RunForward();
        return pass;
    }
}

/// <summary>The gradients at a pass's hooks: per capture and per patch, [batch, width] as the hook's values.</summary>
public sealed record HookGradients(IReadOnlyDictionary<ActivationCapture, float[]> Captures,
    IReadOnlyDictionary<ActivationPatch, float[]> Patches);

/// <summary>One forward pass of <see cref="Gpt2Backprop"/>: its logits, and the backward pass from a gradient on them.</summary>
public sealed class BackpropPass
{
    /// <summary>One layer's saved activations: the normalised LayerNorm inputs and their 1/σ, q|k|v, the attention
    /// probabilities, z, and the MLP's pre-activation.</summary>
    private sealed record Layer(float[] Norm1, float[] InvStd1, float[] Qkv, float[] Probs, float[] Z, float[] Norm2,
        float[] InvStd2, float[] Hidden);

    private readonly Gpt2Weights _weights;
    private readonly TokenBatch _tokens;
    private readonly int[] _logitPositions;
    private readonly HookSet _hooks;
    private readonly List<Layer> _layers = [];
    private readonly int _firstLayer;
    private float[] _finalNorm = [], _finalInvStd = [];

    internal BackpropPass(Gpt2Weights weights, TokenBatch tokens, int[] logitPositions, HookSet hooks)
    {
        (_weights, _tokens, _logitPositions, _hooks) = (weights, tokens, logitPositions, hooks);
        _firstLayer = hooks.Start?.Layer ?? 0;
    }

    private Gpt2Config Config => _weights.Config;
    private int Rows => _tokens.Batch * _tokens.SeqLen;

    /// <summary>[logit positions, vocab], as <see cref="Gpt2Model.Forward"/> returns them.</summary>
    public Tensor Logits { get; private set; } = new(0, 0);

    internal void RunForward()
    {
        var cfg = Config;
        int d = cfg.DModel, rows = Rows, seqLen = _tokens.SeqLen;
        var residual = new float[rows * d];
        if (_hooks.Start is { } start) start.Residual.AsSpan(0, rows * d).CopyTo(residual);
        else Gpt2Model.Embed(_weights, _tokens, residual);
        var normed = new float[rows * d];
        var output = new float[rows * d];
        for (int layer = _firstLayer; layer < cfg.NLayer; layer++)
        {
            foreach (var capture in _hooks.ResidualCaptures)
                if (capture.Layer == layer) residual.CopyTo(capture.Values, 0);
            var block = _weights.Blocks[layer];
            Hooks(layer, residual, d, HookPoint.ResidPre);
            var (norm1, invStd1) = LayerNorm(residual, block.Ln1, normed);
            var qkv = new float[rows * 3 * d];
            Gpt2Model.Linear(normed, block.AttnWeight, block.AttnBias, qkv, rows, d, 3 * d, accumulate: false);
            Hooks(layer, qkv, 3 * d, HookPoint.Q, HookPoint.K, HookPoint.V);
            var z = new float[rows * d];
            var probs = Attention(qkv, z);
            Hooks(layer, z, d, HookPoint.Z);
            Gpt2Model.Linear(z, block.AttnOutWeight, block.AttnOutBias, output, rows, d, d, accumulate: false);
            Hooks(layer, output, d, HookPoint.AttnOut);
            TensorPrimitives.Add(residual, output, residual);
            Hooks(layer, residual, d, HookPoint.ResidMid);

            var (norm2, invStd2) = LayerNorm(residual, block.Ln2, normed);
            var hidden = new float[rows * cfg.DMlp];
            Gpt2Model.Linear(normed, block.MlpInWeight, block.MlpInBias, hidden, rows, d, cfg.DMlp, accumulate: false);
            var activated = (float[])hidden.Clone();
            TransformerOps.GeluNew(activated, activated.Length);
            Gpt2Model.Linear(activated, block.MlpOutWeight, block.MlpOutBias, output, rows, cfg.DMlp, d, accumulate: false);
            Hooks(layer, output, d, HookPoint.MlpOut);
            TensorPrimitives.Add(residual, output, residual);
            Hooks(layer, residual, d, HookPoint.ResidPost);
            _layers.Add(new Layer(norm1, invStd1, qkv, probs, z, norm2, invStd2, hidden));
        }
        Logits = Unembed(residual);
    }

    /// <summary>
    /// The gradients at every capture and patch of the pass's hooks, given dLoss/dLogits [logit positions, vocab].
    /// Each layer is undone in reverse: the MLP, its LayerNorm, the output projection, attention, q|k|v's projection,
    /// the first LayerNorm, with the residual stream's gradient passed around each sublayer.
    /// </summary>
    public HookGradients Backward(Tensor logitGradient)
    {
        var cfg = Config;
        int d = cfg.DModel, rows = Rows;
        if (logitGradient.Length != _logitPositions.Length * cfg.VocabSize)
            throw new ArgumentException($"The logits' gradient has {logitGradient.Length} values, expected {_logitPositions.Length} × {cfg.VocabSize}.");
        var captures = _hooks.Captures.ToDictionary(c => c, c => new float[c.Values.Length]);
        var patches = _hooks.Patches.ToDictionary(p => p, p => new float[p.Values.Length]);
        var gradients = new HookGradients(captures, patches);

        var dResidual = UnembedBackward(logitGradient);
        var dOutput = new float[rows * d];
        var dNormed = new float[rows * d];
        for (int layer = cfg.NLayer - 1; layer >= _firstLayer; layer--)
        {
            var saved = _layers[layer - _firstLayer];
            var block = _weights.Blocks[layer];
            HooksBackward(gradients, layer, dResidual, d, HookPoint.ResidPost);
            dResidual.CopyTo(dOutput, 0);
            HooksBackward(gradients, layer, dOutput, d, HookPoint.MlpOut);
            var dHidden = new float[rows * cfg.DMlp];
            Gemm.Multiply(dOutput, block.MlpOutWeight.Span, dHidden, rows, cfg.DMlp, d, transB: true);
            GeluNewBackward(saved.Hidden, dHidden);
            Gemm.Multiply(dHidden, block.MlpInWeight.Span, dNormed, rows, d, cfg.DMlp, transB: true);
            LayerNormBackward(dNormed, saved.Norm2, saved.InvStd2, block.Ln2, dResidual);

            HooksBackward(gradients, layer, dResidual, d, HookPoint.ResidMid);
            dResidual.CopyTo(dOutput, 0);
            HooksBackward(gradients, layer, dOutput, d, HookPoint.AttnOut);
            var dZ = new float[rows * d];
            Gemm.Multiply(dOutput, block.AttnOutWeight.Span, dZ, rows, d, d, transB: true);
            HooksBackward(gradients, layer, dZ, d, HookPoint.Z);
            var dQkv = AttentionBackward(saved, dZ);
            HooksBackward(gradients, layer, dQkv, 3 * d, HookPoint.Q, HookPoint.K, HookPoint.V);
            Gemm.Multiply(dQkv, block.AttnWeight.Span, dNormed, rows, d, 3 * d, transB: true);
            LayerNormBackward(dNormed, saved.Norm1, saved.InvStd1, block.Ln1, dResidual);
            HooksBackward(gradients, layer, dResidual, d, HookPoint.ResidPre);
        }
        return gradients;
    }

    private void Hooks(int layer, float[] buffer, int rowStride, params HookPoint[] points) =>
        Gpt2Model.ApplyHooks(Config, _hooks, layer, buffer, rowStride, _tokens.SeqLen, points);

    /// <summary>
    /// At a hook point on the way back: each capture's and patch's slice of the gradient is read out, then a patched
    /// slice is zeroed, for the value there was a constant.
    /// </summary>
    private void HooksBackward(HookGradients gradients, int layer, float[] gradient, int rowStride, params HookPoint[] points)
    {
        int seqLen = _tokens.SeqLen;
        Span<float> Slice(HeadHook hook, int prompt, int position)
        {
            var (column, width) = Gpt2Model.HookColumns(hook, Config);
            return gradient.AsSpan((prompt * seqLen + position) * rowStride + column, width);
        }
        foreach (var (capture, values) in gradients.Captures)
            if (capture.Hook.Layer == layer && points.Contains(capture.Hook.Point))
                for (int b = 0; b < capture.Positions.Length; b++)
                    Slice(capture.Hook, b, capture.Positions[b]).CopyTo(values.AsSpan(b * capture.Width, capture.Width));
        foreach (var (patch, values) in gradients.Patches)
            if (patch.Hook.Layer == layer && points.Contains(patch.Hook.Point))
            {
                int width = patch.Values.Length / patch.Positions.Length;
                for (int b = 0; b < patch.Positions.Length; b++)
                    Slice(patch.Hook, b, patch.Positions[b]).CopyTo(values.AsSpan(b * width, width));
            }
        foreach (var (patch, _) in gradients.Patches)
            if (patch.Hook.Layer == layer && points.Contains(patch.Hook.Point))
                for (int b = 0; b < patch.Positions.Length; b++) Slice(patch.Hook, b, patch.Positions[b]).Clear();
    }

    /// <summary>output = LayerNorm(input) row by row; returns the normalised rows x̂ and each row's 1/√(var + eps).</summary>
    private (float[] Normalised, float[] InvStd) LayerNorm(float[] input, LayerNormParams? ln, float[] output, int? rows = null,
        Func<int, int>? rowOf = null)
    {
        int d = Config.DModel, count = rows ?? Rows;
        var normalised = new float[count * d];
        var invStd = new float[count];
        for (int r = 0; r < count; r++)
        {
            var xHat = normalised.AsSpan(r * d, d);
            invStd[r] = TransformerOps.LayerNorm(input.AsSpan((rowOf?.Invoke(r) ?? r) * d, d), null, Config.LayerNormEpsilon, xHat);
            var y = output.AsSpan(r * d, d);
            if (ln is null) xHat.CopyTo(y);
            else
            {
                TensorPrimitives.Multiply(xHat, ln.Weight.Span, y);
                TensorPrimitives.Add(y, ln.Bias.Span, y);
            }
        }
        return (normalised, invStd);
    }

    /// <summary>
    /// dInput += the gradient through y = x̂·γ + β: with g = dy·γ, dx = (g − mean(g) − x̂·mean(g·x̂)) / σ. dOutput's
    /// rows are overwritten with g.
    /// </summary>
    private void LayerNormBackward(float[] dOutput, float[] normalised, float[] invStd, LayerNormParams? ln, float[] dInput,
        Func<int, int>? rowOf = null)
    {
        int d = Config.DModel;
        for (int r = 0; r < invStd.Length; r++)
        {
            var g = dOutput.AsSpan(r * d, d);
            var xHat = normalised.AsSpan(r * d, d);
            if (ln is not null) TensorPrimitives.Multiply(g, ln.Weight.Span, g);
            float meanG = TensorPrimitives.Sum(g) / d, meanGx = TensorPrimitives.Dot(g, xHat) / d;
            var dx = dInput.AsSpan((rowOf?.Invoke(r) ?? r) * d, d);
            for (int c = 0; c < d; c++) dx[c] += (g[c] - meanG - xHat[c] * meanGx) * invStd[r];
        }
    }

    /// <summary>Causal softmax attention per (prompt, head), as <see cref="Gpt2Model"/>'s; returns the probabilities [b, h, i, j].</summary>
    private float[] Attention(float[] qkv, float[] z)
    {
        int d = Config.DModel, dHead = Config.DHead, nHead = Config.NHead, seqLen = _tokens.SeqLen;
        var probs = new float[_tokens.Batch * nHead * seqLen * seqLen];
        Parallel.For(0, _tokens.Batch * nHead, item =>
        {
            int b = item / nHead, h = item % nHead;
            for (int i = 0; i < seqLen; i++)
            {
                var weights = probs.AsSpan((item * seqLen + i) * seqLen, i + 1);
                TransformerOps.AttentionWeights(qkv, d, dHead, h, b * seqLen, i, weights);
                TransformerOps.AttendValues(qkv, d, dHead, h, b * seqLen, weights, z.AsSpan((b * seqLen + i) * d + h * dHead, dHead));
            }
        });
        return probs;
    }

    /// <summary>
    /// The gradient of q|k|v from z's: with p = softmax(s), s_j = q·k_j/√d_head and z = Σ p_j v_j,
    /// dv_j += p_j·dz, ds_j = p_j·(dz·v_j − Σ_l p_l dz·v_l), dq = Σ ds_j k_j/√d_head, dk_j += ds_j q/√d_head.
    /// </summary>
    private float[] AttentionBackward(Layer saved, float[] dZ)
    {
        int d = Config.DModel, dHead = Config.DHead, nHead = Config.NHead, seqLen = _tokens.SeqLen, stride = 3 * d;
        float scale = 1f / MathF.Sqrt(dHead);
        var (qkv, probs) = (saved.Qkv, saved.Probs);
        var dQkv = new float[Rows * stride];
        Parallel.For(0, _tokens.Batch * nHead, item =>
        {
            int b = item / nHead, h = item % nHead;
            Span<float> dScores = stackalloc float[seqLen];
            Span<float> Row(float[] buffer, int position, int part) =>
                buffer.AsSpan((b * seqLen + position) * stride + part * d + h * dHead, dHead);
            for (int i = 0; i < seqLen; i++)
            {
                var p = probs.AsSpan((item * seqLen + i) * seqLen, i + 1);
                var dz = dZ.AsSpan((b * seqLen + i) * d + h * dHead, dHead);
                float total = 0;
                for (int j = 0; j <= i; j++)
                {
                    dScores[j] = TensorPrimitives.Dot(dz, Row(qkv, j, 2));
                    total += p[j] * dScores[j];
                    TensorPrimitives.MultiplyAdd(dz, p[j], Row(dQkv, j, 2), Row(dQkv, j, 2));
                }
                var dq = Row(dQkv, i, 0);
                for (int j = 0; j <= i; j++)
                {
                    float ds = p[j] * (dScores[j] - total) * scale;
                    TensorPrimitives.MultiplyAdd(Row(qkv, j, 1), ds, dq, dq);
                    TensorPrimitives.MultiplyAdd(Row(qkv, i, 0), ds, Row(dQkv, j, 1), Row(dQkv, j, 1));
                }
            }
        });
        return dQkv;
    }

    /// <summary>dHidden *= gelu_new′(pre-activation): ½(1 + t) + ½x(1 − t²)(c1 + 3c3·x²), t = tanh(c1·x + c3·x³).</summary>
    private static void GeluNewBackward(float[] preActivation, float[] dHidden)
    {
        float c1 = MathF.Sqrt(2f / MathF.PI), c3 = c1 * 0.044715f;
        Parallel.For(0, (preActivation.Length + 4095) / 4096, chunk =>
        {
            for (int i = chunk * 4096; i < Math.Min(preActivation.Length, (chunk + 1) * 4096); i++)
            {
                float x = preActivation[i], t = MathF.Tanh(c1 * x + c3 * x * x * x);
                dHidden[i] *= 0.5f * (1 + t) + 0.5f * x * (1 - t * t) * (c1 + 3 * c3 * x * x);
            }
        });
    }

    /// <summary>The row of the residual stream each logit position reads.</summary>
    private int LogitRow(int r) => r / (_logitPositions.Length / _tokens.Batch) * _tokens.SeqLen + _logitPositions[r];

    private Tensor Unembed(float[] residual)
    {
        int d = Config.DModel, count = _logitPositions.Length;
        var normed = new float[count * d];
        (_finalNorm, _finalInvStd) = LayerNorm(residual, _weights.LnFinal, normed, count, LogitRow);
        return Gpt2Model.Logits(_weights, normed, count);
    }

    /// <summary>The residual stream's gradient after the last layer: dLogits·W_U through the final LayerNorm.</summary>
    private float[] UnembedBackward(Tensor logitGradient)
    {
        int d = Config.DModel, count = _logitPositions.Length;
        var dNormed = new float[count * d];
        Gemm.Multiply(logitGradient.Span, _weights.Unembedding.Span, dNormed, count, d, Config.VocabSize);
        var dResidual = new float[Rows * d];
        LayerNormBackward(dNormed, _finalNorm, _finalInvStd, _weights.LnFinal, dResidual, LogitRow);
        return dResidual;
    }
}
