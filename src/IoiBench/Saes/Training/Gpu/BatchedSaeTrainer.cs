using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// Trains many <see cref="SaeTrainingRun"/>s of one variant in lockstep on the GPU: every step is one set of kernel
/// launches and cuBLAS strided-batched products over all of them (Gpu/Kernels/sae_training.cu). Each step computes the
/// CPU SAEs' losses and gradients (<see cref="VanillaSae"/>, <see cref="GatedSae"/>, <see cref="TopKSae"/>) and Adam's
/// update, some sums arranged differently for the GPU, so results agree within float32 rounding. The runs themselves
/// still choose each epoch's batches and learning rate, resample dead latents and record metrics, so the GPU replaces
/// only the batches' arithmetic. Runs may differ in λ or k, seed and data (their node), but not in variant options,
/// width, batch size or epochs done.
/// </summary>
internal sealed class BatchedSaeTrainer : IDisposable
{
    public const string KernelFile = "sae_training.cu";
    private const int StatSlots = 4, SparsitySlot = 0, ActiveSlot = 1, ReconstructionSlot = 2, AuxiliarySlot = 3;

    private enum Variant { Vanilla, Gated, TopK }

    private readonly CudaDevice _device;
    private readonly CudaModule _kernels;
    private readonly IReadOnlyList<SaeTrainingRun> _runs;
    private readonly Variant _variant;
    private readonly bool _normaliseDecoder, _relu, _encoderBias;
    private readonly int _saes, _dIn, _dSae, _examples;
    private readonly Dictionary<string, (long Offset, int Size)> _layout = new(StringComparer.Ordinal);
    private readonly long _parameterCount;
    private readonly SaeTrainingRun[] _nodeLeaders;
    private readonly float[] _lambdas;
    private readonly List<IDisposable> _allocations = [];
    private readonly DeviceArray<float> _parameters, _gradients, _firstMoments, _secondMoments, _data, _stats, _lambdasOnDevice, _rates;
    private readonly DeviceArray<int> _order, _nodeOf, _fired, _ks;
    private readonly DeviceArray<int>? _selected;   // top-k: the kept latents of each row, [G, rows, k_max]
    private readonly int _kMax;
    private readonly DeviceArray<double> _sums;
    private readonly Dictionary<string, DeviceArray<float>> _buffers = new(StringComparer.Ordinal);
    private int _steps;

    public BatchedSaeTrainer(CudaDevice device, IReadOnlyList<SaeTrainingRun> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to train.", nameof(runs));
        var first = runs[0];
        _device = device;
        _runs = runs;
        _saes = runs.Count;
        (_dIn, _dSae, _examples) = (first.Sae.DIn, first.Sae.DSae, first.Data.Shape[0]);
        (_variant, _normaliseDecoder, _relu, _encoderBias) = first.Sae switch
        {
            VanillaSae => (Variant.Vanilla, true, true, true),
            GatedSae g => (Variant.Gated, true, g.MagnitudeRelu, true),
            TopKSae { AuxK: > 0 } => throw new InvalidInputException("--device cuda: top-k SAEs with aux_k > 0 train on the CPU only; use --device cpu."),
            TopKSae t when t.DSae > 1024 => throw new InvalidInputException($"--device cuda: top-k SAEs of width {t.DSae} train on the CPU only (the GPU's top-k takes widths up to 1024)."),
            TopKSae t => (Variant.TopK, t.NormaliseDecoder, t.Relu, t.EncoderBias),
            _ => throw new ArgumentException($"{first.Sae.GetType().Name} has no GPU trainer."),
        };
        foreach (var run in runs)
            if (run.Sae.GetType() != first.Sae.GetType() || run.Sae.DIn != _dIn || run.Sae.DSae != _dSae || run.Data.Shape[0] != _examples
                || run.Options.BatchSize != first.Options.BatchSize || run.EpochsDone != first.EpochsDone || run.Optimizer.Steps != first.Optimizer.Steps
                || Flags(run.Sae) != Flags(first.Sae))
                throw new ArgumentException("runs trained together must share variant, options, shapes, batch size and progress.", nameof(runs));
        _kernels = device.Module(KernelFile, $"LATENT_SLOTS={(_dSae + 31) / 32}");
        try
        {
            (_parameterCount, _parameters, _gradients, _firstMoments, _secondMoments) = AllocateParameters(first);
            (_nodeLeaders, _data, _order, _nodeOf) = UploadData(runs);
            _lambdas = [.. runs.Select(r => r.Sae switch { VanillaSae v => v.L1Coefficient, GatedSae g => g.L1Coefficient, _ => 0f })];
            _lambdasOnDevice = Allocate<float>(_saes);
            _lambdasOnDevice.Upload(_lambdas);
            _rates = Allocate<float>(_saes);
            int[] ks = [.. runs.Select(r => (r.Sae as TopKSae)?.K ?? 0)];
            _ks = Allocate<int>(_saes);
            _ks.Upload(ks);
            _kMax = ks.Max();
            if (_variant == Variant.TopK) _selected = Allocate<int>((long)_saes * first.Options.BatchSize * _kMax);
            _stats = Allocate<float>((long)StatSlots * _saes * first.Options.BatchSize);
            _sums = Allocate<double>((long)StatSlots * _saes);
            _fired = Allocate<int>((long)_saes * _dSae);
            CopyToDevice();
        }
        catch
        {
            Dispose();   // e.g. out of GPU memory: free what was allocated
            throw;
        }
    }

    /// <summary>Parameters, gradients and both Adam moments of every run: one flat buffer each, laid out name by name.</summary>
    private (long, DeviceArray<float>, DeviceArray<float>, DeviceArray<float>, DeviceArray<float>) AllocateParameters(SaeTrainingRun first)
    {
        long offset = 0;
        foreach (var (name, tensor) in first.Sae.Parameters.Tensors)
        {
            _layout[name] = (offset, tensor.Length);
            offset += (long)tensor.Length * _saes;
        }
        return (offset, Allocate<float>(offset), Allocate<float>(offset), Allocate<float>(offset), Allocate<float>(offset));
    }

    /// <summary>
    /// Each node's training data, once: runs of one node (same data, same seed) see the same batches. Returns one run
    /// per node (it draws the node's epoch order), the data [nodes, n, d_in], the order buffer and each run's node.
    /// </summary>
    private (SaeTrainingRun[], DeviceArray<float>, DeviceArray<int>, DeviceArray<int>) UploadData(IReadOnlyList<SaeTrainingRun> runs)
    {
        var leaders = new List<SaeTrainingRun>();
        var nodeOf = new int[_saes];
        for (int g = 0; g < _saes; g++)
        {
            int node = leaders.FindIndex(l => ReferenceEquals(l.Data, runs[g].Data) && l.Options.Seed == runs[g].Options.Seed);
            if (node < 0)
            {
                node = leaders.Count;
                leaders.Add(runs[g]);
            }
            nodeOf[g] = node;
        }
        var data = Allocate<float>((long)leaders.Count * _examples * _dIn);
        for (int node = 0; node < leaders.Count; node++) data.Upload(leaders[node].Data.Span, (long)node * _examples * _dIn);
        var nodes = Allocate<int>(_saes);
        nodes.Upload(nodeOf);
        return ([.. leaders], data, Allocate<int>((long)leaders.Count * _examples), nodes);
    }

    /// <summary>
    /// About how many bytes of GPU memory one run takes in a group: parameters, gradients and Adam moments, its working
    /// buffers at full batch, and its node's data (counted per run, so the estimate errs high).
    /// </summary>
    public static long BytesPerRun(SaeTrainingRun run)
    {
        var sae = run.Sae;
        long batch = run.Options.BatchSize, latentBuffers = sae switch { GatedSae => 5, TopKSae => 3, _ => 2 }, k = (sae as TopKSae)?.K ?? 0;
        long parameters = sae.Parameters.Tensors.Values.Sum(t => (long)t.Length);
        long floats = 4 * parameters + (latentBuffers * sae.DSae + 4L * sae.DIn + StatSlots + k) * batch + sae.DSae + (long)run.Data.Length;
        return floats * sizeof(float);
    }

    private static (bool, bool, bool, bool) Flags(SparseAutoencoder sae) => sae switch
    {
        GatedSae g => (g.MagnitudeRelu, false, false, false),
        TopKSae t => (t.Relu, t.EncoderBias, t.NormaliseDecoder, t.AuxK > 0),
        _ => default,
    };

    private DeviceArray<T> Allocate<T>(long length) where T : unmanaged
    {
        var array = new DeviceArray<T>(length);
        _allocations.Add(array);
        return array;
    }

    /// <summary>A working buffer of <paramref name="perSae"/> floats per SAE; contents are stale between uses.</summary>
    private ulong Buffer(string name, long perSae)
    {
        if (!_buffers.TryGetValue(name, out var buffer)) _buffers[name] = buffer = Allocate<float>(perSae * _saes);
        return buffer.Pointer;
    }

    private ulong Parameter(string name) => _parameters.At(_layout[name].Offset);
    private ulong Gradient(string name) => _gradients.At(_layout[name].Offset);

    /// <summary>Trains every run one epoch and returns each run's metrics (in the order of the runs).</summary>
    public IReadOnlyList<EpochMetrics> RunEpoch()
    {
        // Each run's own rate: a run whose resample found dead latents warms up, one that found none does not.
        _rates.Upload([.. _runs.Select(r => r.LearningRate)]);
        var orders = new int[_nodeLeaders.Length][];
        Parallel.For(0, orders.Length, node => orders[node] = _nodeLeaders[node].StartEpoch().Order);
        for (int node = 0; node < orders.Length; node++) _order.Upload(orders[node], (long)node * _examples);

        int batch = _runs[0].Options.BatchSize;
        for (int start = 0; start < _examples; start += batch) Step(start, Math.Min(batch, _examples - start));

        var sums = _sums.Download();
        var fired = _fired.Download();
        _sums.Clear();
        _fired.Clear();
        bool resample = _runs.Any(r => r.ResamplesAfterEpoch);
        if (resample) CopyToHost();
        var metrics = new EpochMetrics[_saes];
        for (int g = 0; g < _saes; g++)
        {
            double Sum(int slot) => sums[g * StatSlots + slot];
            var totals = new EpochTotals(Sum(ReconstructionSlot) + _lambdas[g] * Sum(SparsitySlot) + Sum(AuxiliarySlot), Sum(ReconstructionSlot),
                _variant == Variant.TopK ? 0 : Sum(SparsitySlot), Sum(ActiveSlot), [.. fired.AsSpan(g * _dSae, _dSae).ToArray().Select(f => f != 0)]);
            metrics[g] = _runs[g].FinishEpoch(totals);
        }
        if (resample) CopyToDevice();
        return metrics;
    }

    /// <summary>One Adam step of every SAE on rows start…start+rows−1 of its node's shuffled data.</summary>
    private void Step(int start, int rows)
    {
        long inputs = (long)_saes * rows * _dIn;
        _stats.Clear();   // slots a variant does not write must add 0
        ulong x = Buffer("x", (long)rows * _dIn), centred = Buffer("centred", (long)rows * _dIn);
        _kernels.LaunchElementwise("gather_batch", inputs, _data.Pointer, _order.Pointer, _nodeOf.Pointer, x, _examples, start, rows, _dIn, inputs);
        _kernels.LaunchElementwise("subtract_bias", inputs, x, Parameter("b_dec"), centred, rows, _dIn, inputs);
        switch (_variant)
        {
            case Variant.Vanilla: VanillaStep(x, centred, rows); break;
            case Variant.Gated: GatedStep(x, centred, rows); break;
            default: TopKStep(x, centred, rows); break;
        }

        var optimizer = _runs[0].Optimizer;
        _steps++;
        float correction1 = Adam.Correction(optimizer.Beta1, _steps), correction2 = Adam.Correction(optimizer.Beta2, _steps);
        foreach (var (offset, size) in _layout.Values)
        {
            long total = (long)size * _saes;
            _kernels.LaunchElementwise("adam", total, _parameters.At(offset), _gradients.At(offset), _firstMoments.At(offset), _secondMoments.At(offset),
                _rates.Pointer, (long)size, optimizer.Beta1, optimizer.Beta2, optimizer.Epsilon, correction1, correction2, total);
        }
        if (_normaliseDecoder)
        {
            long decoderRows = (long)_saes * _dSae;
            _kernels.Launch("normalise_rows", (decoderRows * 32 + 255) / 256, 256, Parameter("W_dec"), _dIn, decoderRows);
        }
        _kernels.Launch("accumulate_stats", ((long)_saes * StatSlots * 32 + 255) / 256, 256, _stats.Pointer, _sums.Pointer, rows, _saes);
    }

    private void VanillaStep(ulong x, ulong centred, int rows)
    {
        ulong f = Buffer("latents", (long)rows * _dSae), dF = Buffer("dLatents", (long)rows * _dSae);
        Product(centred, false, Parameter("W_enc"), false, f, rows, _dSae, _dIn);
        LaunchPerRow("vanilla_activate", rows, f, Parameter("b_enc"), _stats.Pointer, _fired.Pointer, rows, _dSae, _saes);
        ulong residual = Decode(f, x, rows, "residual", ReconstructionSlot);
        DecoderBackward(f, residual, dF, rows);
        _kernels.Launch("relu_backward", ColumnTiles, 256, dF, f, _lambdasOnDevice.Pointer, 1f / rows, Gradient("b_enc"), rows, _dSae);
        EncoderBackward(centred, dF, Gradient("b_enc"), Parameter("W_enc"), Gradient("W_enc"), rows);
    }

    /// <summary>
    /// Gated: the magnitude path's weights are W_gate with columns scaled by exp(r_mag), so one product (x − b_dec)·W_gate
    /// serves both paths forward, and one product gives ∂/∂W_gate for both backward (the CPU forms W_mag and runs
    /// each path's products; the sums are the same, rounded differently).
    /// </summary>
    private void GatedStep(ulong x, ulong centred, int rows)
    {
        long latents = (long)rows * _dSae;
        ulong gate = Buffer("gate", latents), f = Buffer("latents", latents), gateRelu = Buffer("gateRelu", latents),
            dMagnitude = Buffer("dLatents", latents), dGate = Buffer("dGate", latents), combinedSums = Buffer("dGateSums", _dSae);
        Product(centred, false, Parameter("W_gate"), false, gate, rows, _dSae, _dIn);
        LaunchPerRow("gated_activate", rows, gate, Parameter("b_gate"), Parameter("r_mag"), Parameter("b_mag"), f, gateRelu,
            _stats.Pointer, _fired.Pointer, _relu ? 1 : 0, rows, _dSae, _saes);
        ulong residual = Decode(f, x, rows, "residual", ReconstructionSlot);
        // The auxiliary reconstruction from ReLU(gate) reads the decoder but sends it no gradient (stop-gradient).
        ulong auxResidual = Decode(gateRelu, x, rows, "auxResidual", AuxiliarySlot);

        DecoderBackward(f, residual, dMagnitude, rows);
        Product(auxResidual, false, Parameter("W_dec"), true, dGate, rows, _dSae, _dIn);
        _kernels.Launch("gated_backward", ColumnTiles, 256, dMagnitude, dGate, f, gateRelu, gate, Parameter("r_mag"),
            _lambdasOnDevice.Pointer, 1f / rows, _relu ? 1 : 0, Gradient("b_mag"), Gradient("b_gate"), Gradient("r_mag"), combinedSums, rows, _dSae);
        EncoderBackward(centred, dGate, combinedSums, Parameter("W_gate"), Gradient("W_gate"), rows);
    }

    /// <summary>
    /// Top-k works from the k latents it keeps: its decoder and its latents' gradient read only their decoder rows
    /// (topk_decode, topk_latent_gradients) instead of dense products over all d_sae.
    /// </summary>
    private void TopKStep(ulong x, ulong centred, int rows)
    {
        ulong pre = Buffer("pre", (long)rows * _dSae), z = Buffer("latents", (long)rows * _dSae), dZ = Buffer("dLatents", (long)rows * _dSae),
            residual = Buffer("residual", (long)rows * _dIn), selected = _selected!.Pointer;
        Product(centred, false, Parameter("W_enc"), false, pre, rows, _dSae, _dIn);
        LaunchPerRow("topk_activate", rows, pre, _encoderBias ? Parameter("b_enc") : 0UL, z, _ks.Pointer, selected, _kMax,
            _stats.Pointer, _fired.Pointer, _relu ? 1 : 0, rows, _dSae, _saes);
        LaunchPerRow("topk_decode", rows, z, selected, _ks.Pointer, _kMax, Parameter("W_dec"), Parameter("b_dec"), x, residual,
            _stats.Pointer, ReconstructionSlot, 2f / rows, rows, _dIn, _dSae, _saes);
        Product(z, true, residual, false, Gradient("W_dec"), _dSae, _dIn, rows);
        ColumnSums(residual, Gradient("b_dec"), rows, _dIn);
        LaunchPerRow("topk_latent_gradients", rows, residual, Parameter("W_dec"), z, selected, _ks.Pointer, _kMax, dZ, rows, _dIn, _dSae, _saes);
        // Without an encoder bias the column sums still give the encoder's share of ∂/∂b_dec.
        ulong sums = _encoderBias ? Gradient("b_enc") : Buffer("dZSums", _dSae);
        ColumnSums(dZ, sums, rows, _dSae);
        EncoderBackward(centred, dZ, sums, Parameter("W_enc"), Gradient("W_enc"), rows);
    }

    /// <summary>
    /// latents·W_dec + b_dec − x into a buffer, its squared norms into a stats slot, then scaled by 2/rows: the
    /// gradient of the batch-mean squared error with respect to the reconstruction.
    /// </summary>
    private ulong Decode(ulong latents, ulong x, int rows, string buffer, int slot)
    {
        ulong residual = Buffer(buffer, (long)rows * _dIn);
        Product(latents, false, Parameter("W_dec"), false, residual, rows, _dIn, _dSae);
        LaunchPerRow("residual", rows, residual, Parameter("b_dec"), x, _stats.Pointer, slot, 2f / rows, rows, _dIn, _saes);
        return residual;
    }

    /// <summary>∂/∂W_dec = latentsᵀ·residual, ∂/∂b_dec = Σ_rows residual, and ∂/∂latents = residual·W_decᵀ.</summary>
    private void DecoderBackward(ulong latents, ulong residual, ulong dLatents, int rows)
    {
        Product(latents, true, residual, false, Gradient("W_dec"), _dSae, _dIn, rows);
        ColumnSums(residual, Gradient("b_dec"), rows, _dIn);
        Product(residual, false, Parameter("W_dec"), true, dLatents, rows, _dSae, _dIn);
    }

    /// <summary>
    /// Through pre = (x − b_dec)·W + b, given the masked dPre and its column sums (= ∂/∂b): ∂/∂W, and the encoder's share
    /// of ∂/∂b_dec, −Σ_rows dPre·Wᵀ = −W·(Σ_rows dPre): a
    /// matrix-vector product instead of the CPU's [rows, d_in] product and its row sums (the same sum, rounded differently).
    /// </summary>
    private void EncoderBackward(ulong centred, ulong dPre, ulong dPreSums, ulong weight, ulong dWeight, int rows)
    {
        Product(centred, true, dPre, false, dWeight, _dIn, _dSae, rows);
        Product(weight, false, dPreSums, false, Gradient("b_dec"), _dIn, 1, _dSae, beta: 1f, alpha: -1f);
    }

    /// <summary>Blocks of the column kernels (relu_backward, gated_backward): one per SAE and 32 latents.</summary>
    private long ColumnTiles => (long)_saes * ((_dSae + 31) / 32);

    private void ColumnSums(ulong source, ulong destination, int rows, int columns) =>
        _kernels.LaunchElementwise("column_sums", (long)_saes * columns, source, destination, rows, columns, _saes);

    /// <summary>C = alpha·op(A)·op(B) + beta·C for every SAE; op(A) [m, k], op(B) [k, n], each SAE's operands packed.</summary>
    private void Product(ulong a, bool transA, ulong b, bool transB, ulong c, int m, int n, int k, float beta = 0f, float alpha = 1f) =>
        Cublas.MultiplyBatched(_device.Blas, transA, transB, m, n, k, alpha, a, (long)m * k, b, (long)k * n, beta, c, (long)m * n, _saes);

    /// <summary>Launches a kernel that runs one warp per (SAE, row), 8 warps to a block.</summary>
    private void LaunchPerRow(string kernel, int rows, params ReadOnlySpan<KernelArgument> arguments) =>
        _kernels.Launch(kernel, ((long)_saes * rows * 32 + 255) / 256, 256, arguments);

    /// <summary>Copies every run's parameters and Adam state from the GPU into its host SAE and optimiser.</summary>
    public void CopyToHost()
    {
        var parameters = _parameters.Download();
        var first = _firstMoments.Download();
        var second = _secondMoments.Download();
        for (int g = 0; g < _saes; g++)
        {
            var run = _runs[g];
            var state = new Dictionary<string, Numerics.Tensor>(StringComparer.Ordinal);
            foreach (var (name, (offset, size)) in _layout)
            {
                long at = offset + (long)g * size;
                parameters.AsSpan((int)at, size).CopyTo(run.Sae.Parameters[name].Span);
                state["m." + name] = Numerics.Tensor.From(first.AsSpan((int)at, size).ToArray(), size);
                state["v." + name] = Numerics.Tensor.From(second.AsSpan((int)at, size).ToArray(), size);
            }
            run.Optimizer.Restore(_steps, name => state[name]);
        }
    }

    /// <summary>Copies every run's host parameters and Adam state to the GPU.</summary>
    private void CopyToDevice()
    {
        var parameters = new float[_parameterCount];
        var first = new float[_parameterCount];
        var second = new float[_parameterCount];
        for (int g = 0; g < _saes; g++)
        {
            var state = _runs[g].Optimizer.State().ToDictionary(p => p.Key, p => p.Value);
            foreach (var (name, (offset, size)) in _layout)
            {
                int at = (int)(offset + (long)g * size);
                _runs[g].Sae.Parameters[name].Span.CopyTo(parameters.AsSpan(at, size));
                state["m." + name].Span.CopyTo(first.AsSpan(at, size));
                state["v." + name].Span.CopyTo(second.AsSpan(at, size));
            }
        }
        _parameters.Upload(parameters);
        _firstMoments.Upload(first);
        _secondMoments.Upload(second);
        _steps = _runs[0].Optimizer.Steps;
    }

    public void Dispose()
    {
        foreach (var allocation in _allocations) allocation.Dispose();
        _allocations.Clear();
    }
}
