using IoiBench.Cuda;
using IoiBench.Numerics;

namespace IoiBench.Model;

/// <summary>
/// <see cref="Gpt2Model"/>'s forward pass on the GPU: the same weights (uploaded once), tokens, logit positions and
/// hooks, with cuBLAS for the matrix products and Model/Kernels/gpt2_forward.cu for the rest. Patches apply before
/// captures at the same hook, as on the CPU. One forward pass runs at a time.
/// </summary>
public sealed class CudaGpt2Model : ITransformer
{
    internal const string KernelFile = "gpt2_forward.cu";

    private sealed record Block(LayerNorm Ln1, ulong AttnWeight, ulong AttnBias, ulong AttnOutWeight, ulong AttnOutBias, LayerNorm Ln2,
        ulong MlpInWeight, ulong MlpInBias, ulong MlpOutWeight, ulong MlpOutBias);

    /// <summary>A LayerNorm's scale and shift on the device; both 0 when it was folded.</summary>
    private readonly record struct LayerNorm(ulong Weight, ulong Bias);

    private readonly CudaDevice _device;
    private readonly CudaModule _kernels;
    private readonly List<IDisposable> _allocations = [];
    private readonly Dictionary<string, DeviceArray<float>> _buffers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ulong _tokenEmbedding, _positionEmbedding, _unembedding, _unembeddingBias;
    private readonly LayerNorm _lnFinal;
    private readonly Block[] _blocks;

    public Gpt2Config Config { get; }

    /// <summary>The GPU's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public string DeviceName => _device.Info.Name;

    /// <summary>Uploads the weights to GPU 0; a missing driver, GPU, NVRTC or cuBLAS is an error naming it.</summary>
    public CudaGpt2Model(Gpt2Weights weights)
    {
        Config = weights.Config;
        _device = CudaDevice.Open();
        try
        {
            _kernels = _device.Module([KernelFile]);
            _tokenEmbedding = Upload(weights.TokenEmbedding);
            _positionEmbedding = Upload(weights.PositionEmbedding);
            _blocks = [.. weights.Blocks.Select(b => new Block(Upload(b.Ln1), Upload(b.AttnWeight), Upload(b.AttnBias), Upload(b.AttnOutWeight),
                Upload(b.AttnOutBias), Upload(b.Ln2), Upload(b.MlpInWeight), Upload(b.MlpInBias), Upload(b.MlpOutWeight), Upload(b.MlpOutBias)))];
            _lnFinal = Upload(weights.LnFinal);
            _unembedding = Upload(weights.Unembedding);
            _unembeddingBias = weights.UnembeddingBias is { } bias ? Upload(bias) : 0;
        }
        catch
        {
            Dispose();   // e.g. out of GPU memory: free what was uploaded
            throw;
        }
    }

    private ulong Upload(Tensor tensor)
    {
        var array = new DeviceArray<float>(tensor.Length);
        _allocations.Add(array);
        array.Upload(tensor.Span);
        return array.Pointer;
    }

    private LayerNorm Upload(LayerNormParams? ln) => ln is null ? default : new LayerNorm(Upload(ln.Weight), Upload(ln.Bias));

    /// <summary>A working buffer of at least <paramref name="length"/> elements, kept between passes.</summary>
    private ulong Buffer(string name, long length)
    {
        if (!_buffers.TryGetValue(name, out var buffer) || buffer.Length < length)
        {
            buffer?.Dispose();
            _buffers[name] = buffer = new DeviceArray<float>(length);
        }
        return buffer.Pointer;
    }

    public Tensor Forward(TokenBatch tokens, ReadOnlySpan<int> logitPositions, HookSet? hooks = null)
    {
        var cfg = Config;
        Gpt2Model.Prepare(cfg, tokens, logitPositions, hooks);
        int batch = tokens.Batch, seqLen = tokens.SeqLen, rows = batch * seqLen, d = cfg.DModel;
        lock (_lock)
        {
            _device.MakeCurrent();
            using var passArrays = new PassArrays();
            ulong residual = Buffer("residual", (long)rows * d), normed = Buffer("normed", (long)rows * d), qkv = Buffer("qkv", (long)rows * 3 * d),
                z = Buffer("z", (long)rows * d), hidden = Buffer("hidden", (long)rows * cfg.DMlp), output = Buffer("output", (long)rows * d),
                pattern = Buffer("pattern", (long)batch * cfg.NHead * seqLen * seqLen);
            if (hooks?.Start is { } start) CudaDriver.CopyToDevice<float>(residual, start.Residual);
            else _kernels.LaunchElementwise("embed", (long)rows * d, passArrays.Upload(tokens.Ids), _tokenEmbedding, _positionEmbedding, residual, seqLen, d,
                (long)rows * d);

            for (int layer = hooks?.Start?.Layer ?? 0; layer < cfg.NLayer; layer++)
            {
                foreach (var capture in hooks?.ResidualCaptures ?? [])
                    if (capture.Layer == layer) CudaDriver.CopyToHost<float>(capture.Values, residual);
                VectorHooks(hooks, layer, residual, d, seqLen, passArrays, HookPoint.ResidPre);
                var block = _blocks[layer];
                Normalise(residual, block.Ln1, normed, rows, rowsOf: 0);
                Linear(normed, block.AttnWeight, block.AttnBias, qkv, rows, d, 3 * d, accumulate: false);
                VectorHooks(hooks, layer, qkv, 3 * d, seqLen, passArrays, HookPoint.Q, HookPoint.K, HookPoint.V);
                _kernels.Launch("attention_pattern", ((long)batch * cfg.NHead * seqLen * 32 + 255) / 256, 256, qkv, pattern, batch, seqLen, cfg.NHead,
                    d, cfg.DHead, 1f / MathF.Sqrt(cfg.DHead));
                PatternHooks(hooks, layer, pattern, batch, seqLen, passArrays);
                _kernels.LaunchElementwise("attention_output", (long)rows * d, qkv, pattern, z, batch, seqLen, cfg.NHead, d, cfg.DHead);
                VectorHooks(hooks, layer, z, d, seqLen, passArrays, HookPoint.Z);
                AddSublayer(hooks, layer, HookPoint.AttnOut, z, block.AttnOutWeight, block.AttnOutBias, residual, output, rows, d, seqLen, passArrays);
                VectorHooks(hooks, layer, residual, d, seqLen, passArrays, HookPoint.ResidMid);

                Normalise(residual, block.Ln2, normed, rows, rowsOf: 0);
                Linear(normed, block.MlpInWeight, block.MlpInBias, hidden, rows, d, cfg.DMlp, accumulate: false);
                _kernels.LaunchElementwise("gelu_new", (long)rows * cfg.DMlp, hidden, (long)rows * cfg.DMlp);
                AddSublayer(hooks, layer, HookPoint.MlpOut, hidden, block.MlpOutWeight, block.MlpOutBias, residual, output, rows, cfg.DMlp, seqLen,
                    passArrays);
                VectorHooks(hooks, layer, residual, d, seqLen, passArrays, HookPoint.ResidPost);
            }
            return Unembed(residual, logitPositions, batch, seqLen, passArrays);
        }
    }

    private void Normalise(ulong input, LayerNorm ln, ulong output, int rows, ulong rowsOf) =>
        _kernels.Launch("layer_norm", ((long)rows * 32 + 255) / 256, 256, input, ln.Weight, ln.Bias, output, rowsOf, rows, Config.DModel,
            Config.LayerNormEpsilon);

    /// <summary>output (=|+=) input·W + b, with W in Conv1D layout [inDim, outDim].</summary>
    private void Linear(ulong input, ulong weight, ulong bias, ulong output, int rows, int inDim, int outDim, bool accumulate)
    {
        _kernels.LaunchElementwise("add_bias", (long)rows * outDim, output, bias, accumulate ? 1 : 0, outDim, (long)rows * outDim);
        Cublas.MultiplyBatched(_device.Blas, false, false, rows, outDim, inDim, 1f, input, 0, weight, 0, 1f, output, 0, 1);
    }

    /// <summary>residual += input·W + b; with hooks on that output, it is formed apart, hooked, then added (as on the CPU).</summary>
    private void AddSublayer(HookSet? hooks, int layer, HookPoint point, ulong input, ulong weight, ulong bias, ulong residual, ulong output,
        int rows, int inDim, int seqLen, PassArrays arrays)
    {
        int d = Config.DModel;
        if (hooks?.Hooks(layer, point) != true)
        {
            Linear(input, weight, bias, residual, rows, inDim, d, accumulate: true);
            return;
        }
        Linear(input, weight, bias, output, rows, inDim, d, accumulate: false);
        VectorHooks(hooks, layer, output, d, seqLen, arrays, point);
        _kernels.LaunchElementwise("add_to_residual", (long)rows * d, residual, output, (long)rows * d);
    }

    /// <summary>The hooks at <paramref name="points"/> of this layer on a [rows, rowStride] buffer (Gpt2Model.HookColumns).</summary>
    private void VectorHooks(HookSet? hooks, int layer, ulong buffer, int rowStride, int seqLen, PassArrays arrays, params HookPoint[] points)
    {
        if (hooks is null) return;
        void Launch(HeadHook hook, int[] positions, ulong values, bool write)
        {
            var (column, width) = Gpt2Model.HookColumns(hook, Config);
            _kernels.LaunchElementwise("hook_values", (long)positions.Length * width, buffer, arrays.Upload(positions), values, write ? 1 : 0, seqLen,
                rowStride, column, width, positions.Length);
        }

        ApplyHooks(hooks, h => h.Layer == layer && points.Contains(h.Point), arrays, Launch);
    }

    private void PatternHooks(HookSet? hooks, int layer, ulong pattern, int batch, int seqLen, PassArrays arrays)
    {
        if (hooks is null) return;
        void Launch(HeadHook hook, int[] positions, ulong values, bool write) =>
            _kernels.LaunchElementwise("pattern_values", (long)batch * seqLen, pattern, arrays.Upload(positions), values, write ? 1 : 0, hook.Head,
                Config.NHead, seqLen, batch);

        ApplyHooks(hooks, h => h.Layer == layer && h.Point == HookPoint.Pattern, arrays, Launch);
    }

    /// <summary>
    /// The patches, then the captures, at the hooks <paramref name="at"/> selects: <paramref name="launch"/>(hook, positions,
    /// device values, write) writes a patch's uploaded values or reads a capture's, which are then downloaded.
    /// </summary>
    private static void ApplyHooks(HookSet hooks, Func<HeadHook, bool> at, PassArrays arrays, Action<HeadHook, int[], ulong, bool> launch)
    {
        foreach (var patch in hooks.Patches.Where(p => at(p.Hook)))
            launch(patch.Hook, patch.Positions, arrays.Upload(patch.Values), true);
        foreach (var capture in hooks.Captures.Where(c => at(c.Hook)))
        {
            var values = arrays.Allocate(capture.Values.Length);
            launch(capture.Hook, capture.Positions, values.Pointer, false);
            values.Download(capture.Values);
        }
    }

    /// <summary>The final LayerNorm at the requested rows, then logits = normed·W_Uᵀ (+ b_U), downloaded.</summary>
    private Tensor Unembed(ulong residual, ReadOnlySpan<int> logitPositions, int batch, int seqLen, PassArrays arrays)
    {
        int d = Config.DModel, vocab = Config.VocabSize, count = logitPositions.Length;
        var logits = new Tensor(count, vocab);
        if (count == 0) return logits;
        int perPrompt = count / batch;
        var rowsOf = new int[count];
        for (int r = 0; r < count; r++) rowsOf[r] = r / perPrompt * seqLen + logitPositions[r];
        ulong normed = Buffer("unembedNormed", (long)count * d), output = Buffer("logits", (long)count * vocab);
        Normalise(residual, _lnFinal, normed, count, arrays.Upload(rowsOf));
        if (_unembeddingBias != 0)
            _kernels.LaunchElementwise("add_bias", (long)count * vocab, output, _unembeddingBias, 0, vocab, (long)count * vocab);
        Cublas.MultiplyBatched(_device.Blas, false, true, count, vocab, d, 1f, normed, 0, _unembedding, 0, _unembeddingBias != 0 ? 1f : 0f,
            output, 0, 1);
        CudaDriver.CopyToHost(logits.Span, output);
        return logits;
    }

    /// <summary>Small device arrays of one forward pass (token ids, hook positions and values), freed with it.</summary>
    private sealed class PassArrays : IDisposable
    {
        private readonly List<IDisposable> _arrays = [];

        public ulong Upload<T>(T[] values) where T : unmanaged
        {
            var array = new DeviceArray<T>(values.Length);
            _arrays.Add(array);
            array.Upload(values);
            return array.Pointer;
        }

        public DeviceArray<float> Allocate(int length)
        {
            var array = new DeviceArray<float>(length);
            _arrays.Add(array);
            return array;
        }

        public void Dispose()
        {
            foreach (var array in _arrays) array.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var allocation in _allocations) allocation.Dispose();
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        _allocations.Clear();
        _buffers.Clear();
    }
}
