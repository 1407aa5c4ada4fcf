using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// Trains many <see cref="SaeTrainingRun"/>s of one variant in lockstep on the GPU: every step is one set of kernel
/// launches and cuBLAS strided-batched products over all of them. The variant's <see cref="BatchedStep"/> computes the
/// CPU SAEs' losses and gradients (some sums arranged differently for the GPU, so results agree within float32
/// rounding) from the operations this class shares between variants (batch gathering, products, decoding, the decoder's
/// and encoder's backward passes, column sums); Adam, the decoder's normalisation and the epoch's statistics are
/// shared too (Saes/Training/Gpu/sae_common.cu). The runs themselves still choose each epoch's batches and learning
/// rate, resample dead latents and record metrics, so the GPU replaces only the batches' arithmetic. Runs may differ in
/// λ or k, seed and data (their node), but not in variant, options, width, batch size or epochs done.
/// </summary>
internal sealed class BatchedSaeTrainer : IDisposable
{
    /// <summary>The kernels every variant's module starts with.</summary>
    public const string CommonKernels = "sae_common.cu";

    /// <summary>A variant's training kernels as PTX (the shared ones, then its own), with its kernels' default sizes.</summary>
    public static byte[] Compile(SaeVariant variant, IReadOnlyList<string>? defines = null) =>
        CudaModule.Compile([CommonKernels, .. variant.KernelFiles], defines: defines);

    /// <summary>Per-row statistics slots (stats [slots, G, rows]) summed over the epoch into per-run totals.</summary>
    public const int StatSlots = 4, SparsitySlot = 0, ActiveSlot = 1, ReconstructionSlot = 2, AuxiliarySlot = 3;

    private readonly CudaDevice _device;
    private readonly IReadOnlyList<SaeTrainingRun> _runs;
    private readonly BatchedStep _step;
    private readonly Dictionary<string, (long Offset, int Size)> _layout = new(StringComparer.Ordinal);
    private readonly long _parameterCount;
    private readonly SaeTrainingRun[] _nodeLeaders;
    private readonly List<IDisposable> _allocations = [];
    private readonly DeviceArray<float> _parameters, _gradients, _firstMoments, _secondMoments, _data, _stats, _lambdas, _rates;
    private readonly DeviceArray<int> _order, _nodeOf, _fired;
    private readonly DeviceArray<double> _sums;
    private readonly Dictionary<string, DeviceArray<float>> _buffers = new(StringComparer.Ordinal);
    private int _steps;

    public CudaDevice Device => _device;
    public CudaModule Kernels { get; }
    public IReadOnlyList<SaeTrainingRun> Runs => _runs;
    public int Saes { get; }
    public int DIn { get; }
    public int DSae { get; }
    public int BatchSize { get; }
    public ulong Stats => _stats.Pointer;
    public ulong Fired => _fired.Pointer;

    /// <summary>Each run's sparsity coefficient λ on the device (0 for variants without one).</summary>
    public ulong Lambdas => _lambdas.Pointer;

    public BatchedSaeTrainer(CudaDevice device, IReadOnlyList<SaeTrainingRun> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to train.", nameof(runs));
        var first = runs[0];
        _device = device;
        device.MakeCurrent();   // the process's GPU may have been opened on another thread
        _runs = runs;
        Saes = runs.Count;
        (DIn, DSae, BatchSize) = (first.Sae.DIn, first.Sae.DSae, first.Options.BatchSize);
        int examples = first.Data.Shape[0];
        foreach (var run in runs)
            if (run.Sae.GetType() != first.Sae.GetType() || run.Sae.DIn != DIn || run.Sae.DSae != DSae || run.Data.Shape[0] != examples
                || run.Options.BatchSize != BatchSize || run.EpochsDone != first.EpochsDone || run.Optimizer.Steps != first.Optimizer.Steps)
                throw new ArgumentException("runs trained together must share variant, shapes, batch size and progress.", nameof(runs));
        try
        {
            (_parameterCount, _parameters, _gradients, _firstMoments, _secondMoments) = AllocateParameters(first);
            (_nodeLeaders, _data, _order, _nodeOf) = UploadData(runs);
            _lambdas = Allocate<float>(Saes);
            _lambdas.Upload([.. runs.Select(r => r.Sae.SparsityCoefficient)]);
            _rates = Allocate<float>(Saes);
            _stats = Allocate<float>((long)StatSlots * Saes * BatchSize);
            _sums = Allocate<double>((long)StatSlots * Saes);
            _fired = Allocate<int>((long)Saes * DSae);
            _step = first.Sae.Variant.CreateGpuStep(this);   // checks the runs' options, allocates its own buffers
            Kernels = device.Module([CommonKernels, .. first.Sae.Variant.KernelFiles], _step.Defines);
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
            offset += (long)tensor.Length * Saes;
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
        var nodeOf = new int[Saes];
        for (int g = 0; g < Saes; g++)
        {
            int node = leaders.FindIndex(l => ReferenceEquals(l.Data, runs[g].Data) && l.Options.Seed == runs[g].Options.Seed);
            if (node < 0)
            {
                node = leaders.Count;
                leaders.Add(runs[g]);
            }
            nodeOf[g] = node;
        }
        int examples = runs[0].Data.Shape[0];
        var data = Allocate<float>((long)leaders.Count * examples * DIn);
        for (int node = 0; node < leaders.Count; node++) data.Upload(leaders[node].Data.Span, (long)node * examples * DIn);
        var nodes = Allocate<int>(Saes);
        nodes.Upload(nodeOf);
        return ([.. leaders], data, Allocate<int>((long)leaders.Count * examples), nodes);
    }

    /// <summary>
    /// About how many bytes of GPU memory one run takes in a group: parameters, gradients and Adam moments, working
    /// buffers at full batch (up to six latent-sized ones), and its node's data (counted per run, so the estimate errs high).
    /// </summary>
    public static long BytesPerRun(SaeTrainingRun run)
    {
        var sae = run.Sae;
        long batch = run.Options.BatchSize, parameters = sae.Parameters.Tensors.Values.Sum(t => (long)t.Length);
        long floats = 4 * parameters + (6L * sae.DSae + 4L * sae.DIn + StatSlots) * batch + sae.DSae + (long)run.Data.Length;
        return floats * sizeof(float);
    }

    public DeviceArray<T> Allocate<T>(long length) where T : unmanaged
    {
        var array = new DeviceArray<T>(length);
        _allocations.Add(array);
        return array;
    }

    /// <summary>A working buffer of <paramref name="perSae"/> floats for every SAE, kept between steps (allocated at the first, full batch).</summary>
    public ulong Buffer(string name, long perSae)
    {
        if (!_buffers.TryGetValue(name, out var buffer) || buffer.Length < perSae * Saes)
        {
            buffer?.Dispose();
            _buffers[name] = buffer = new DeviceArray<float>(perSae * Saes);
        }
        return buffer.Pointer;
    }

    public ulong Parameter(string name) => _parameters.At(_layout[name].Offset);
    public ulong Gradient(string name) => _gradients.At(_layout[name].Offset);

    /// <summary>Trains every run one epoch and returns each run's metrics (in the order of the runs).</summary>
    public IReadOnlyList<EpochMetrics> RunEpoch()
    {
        _device.MakeCurrent();
        // Each run's own rate: a run whose resample found dead latents warms up, one that found none does not.
        _rates.Upload([.. _runs.Select(r => r.LearningRate)]);
        _step.StartEpoch();
        var orders = new int[_nodeLeaders.Length][];
        Parallel.For(0, orders.Length, node => orders[node] = _nodeLeaders[node].StartEpoch().Order);
        int examples = _runs[0].Data.Shape[0];
        for (int node = 0; node < orders.Length; node++) _order.Upload(orders[node], (long)node * examples);

        for (int start = 0; start < examples; start += BatchSize) Step(start, Math.Min(BatchSize, examples - start), examples);

        var sums = _sums.Download();
        var fired = _fired.Download();
        _sums.Clear();
        _fired.Clear();
        bool resample = _runs.Any(r => r.ResamplesAfterEpoch);
        if (resample) CopyToHost();
        var metrics = new EpochMetrics[Saes];
        for (int g = 0; g < Saes; g++)
        {
            double Sum(int slot) => sums[g * StatSlots + slot];
            var (loss, sparsity) = _step.Totals(Sum(ReconstructionSlot), Sum(SparsitySlot), Sum(AuxiliarySlot), _runs[g].Sae.SparsityCoefficient);
            metrics[g] = _runs[g].FinishEpoch(new EpochTotals(loss, Sum(ReconstructionSlot), sparsity, Sum(ActiveSlot),
                [.. fired.AsSpan(g * DSae, DSae).ToArray().Select(f => f != 0)]));
        }
        if (resample) CopyToDevice();
        return metrics;
    }

    /// <summary>One Adam step of every SAE on rows start…start+rows−1 of its node's shuffled data.</summary>
    private void Step(int start, int rows, int examples)
    {
        long inputs = (long)Saes * rows * DIn;
        _stats.Clear();   // slots a variant does not write must add 0
        ulong x = Buffer("x", (long)rows * DIn), centred = Buffer("centred", (long)rows * DIn);
        Kernels.LaunchElementwise("gather_batch", inputs, _data.Pointer, _order.Pointer, _nodeOf.Pointer, x, examples, start, rows, DIn, inputs);
        Kernels.LaunchElementwise("subtract_bias", inputs, x, Parameter("b_dec"), centred, rows, DIn, inputs);
        _step.Run(x, centred, rows);

        var optimizer = _runs[0].Optimizer;
        _steps++;
        float correction1 = Adam.Correction(optimizer.Beta1, _steps), correction2 = Adam.Correction(optimizer.Beta2, _steps);
        foreach (var (offset, size) in _layout.Values)
        {
            long total = (long)size * Saes;
            Kernels.LaunchElementwise("adam", total, _parameters.At(offset), _gradients.At(offset), _firstMoments.At(offset), _secondMoments.At(offset),
                _rates.Pointer, (long)size, optimizer.Beta1, optimizer.Beta2, optimizer.Epsilon, correction1, correction2, total);
        }
        if (_step.NormalisesDecoder)
        {
            long decoderRows = (long)Saes * DSae;
            Kernels.Launch("normalise_rows", (decoderRows * 32 + 255) / 256, 256, Parameter("W_dec"), DIn, decoderRows);
        }
        Kernels.Launch("accumulate_stats", ((long)Saes * StatSlots * 32 + 255) / 256, 256, _stats.Pointer, _sums.Pointer, rows, Saes);
    }

    /// <summary>
    /// latents·W_dec + b_dec − x into a buffer, its squared norms into a stats slot, then scaled by 2/rows: the
    /// gradient of the batch-mean squared error with respect to the reconstruction.
    /// </summary>
    public ulong Decode(ulong latents, ulong x, int rows, string buffer, int slot)
    {
        ulong residual = Buffer(buffer, (long)rows * DIn);
        Product(latents, false, Parameter("W_dec"), false, residual, rows, DIn, DSae);
        LaunchPerRow("residual", rows, residual, Parameter("b_dec"), x, residual, _stats.Pointer, slot, 2f / rows, rows, DIn, Saes, 0);
        return residual;
    }

    /// <summary>∂/∂W_dec = latentsᵀ·residual, ∂/∂b_dec = Σ_rows residual, and ∂/∂latents = residual·W_decᵀ.</summary>
    public void DecoderBackward(ulong latents, ulong residual, ulong dLatents, int rows)
    {
        Product(latents, true, residual, false, Gradient("W_dec"), DSae, DIn, rows);
        ColumnSums(residual, Gradient("b_dec"), rows, DIn);
        Product(residual, false, Parameter("W_dec"), true, dLatents, rows, DSae, DIn);
    }

    /// <summary>
    /// Through pre = (x − b_dec)·W + b, given the masked dPre and its column sums (= ∂/∂b): ∂/∂W, and the encoder's share
    /// of ∂/∂b_dec, −Σ_rows dPre·Wᵀ = −W·(Σ_rows dPre): a matrix-vector product instead of the CPU's [rows, d_in] product
    /// and its row sums (the same sum, rounded differently).
    /// </summary>
    public void EncoderBackward(ulong centred, ulong dPre, ulong dPreSums, ulong weight, ulong dWeight, int rows)
    {
        Product(centred, true, dPre, false, dWeight, DIn, DSae, rows);
        Product(weight, false, dPreSums, false, Gradient("b_dec"), DIn, 1, DSae, beta: 1f, alpha: -1f);
    }

    /// <summary>Blocks of the column kernels (one per SAE and 32 latents).</summary>
    public long ColumnTiles => (long)Saes * ((DSae + 31) / 32);

    public void ColumnSums(ulong source, ulong destination, int rows, int columns) =>
        Kernels.LaunchElementwise("column_sums", (long)Saes * columns, source, destination, rows, columns, Saes);

    /// <summary>C = alpha·op(A)·op(B) + beta·C for every SAE; op(A) [m, k], op(B) [k, n], each SAE's operands packed.</summary>
    public void Product(ulong a, bool transA, ulong b, bool transB, ulong c, int m, int n, int k, float beta = 0f, float alpha = 1f) =>
        Cublas.MultiplyBatched(_device.Blas, transA, transB, m, n, k, alpha, a, (long)m * k, b, (long)k * n, beta, c, (long)m * n, Saes);

    /// <summary>One SAE's operand of <see cref="ProductOfBlocks"/>: where it starts, its matrix's size and its row stride.</summary>
    public readonly record struct Block(ulong Pointer, long MatrixSize, int RowStride);

    /// <summary>
    /// <see cref="Product"/> on blocks of larger matrices (e.g. a prefix of the latents: a block of columns of
    /// [rows, d_sae] and of rows of W_dec), each operand with its own per-SAE matrix size and row stride.
    /// </summary>
    public void ProductOfBlocks(Block a, bool transA, Block b, bool transB, Block c, int m, int n, int k, float beta = 0f) =>
        Cublas.MultiplyBatched(_device.Blas, transA, transB, m, n, k, 1f, a.Pointer, a.MatrixSize, b.Pointer, b.MatrixSize, beta,
            c.Pointer, c.MatrixSize, Saes, a.RowStride, b.RowStride, c.RowStride);

    /// <summary>Launches a kernel that runs one warp per (SAE, row), 8 warps to a block.</summary>
    public void LaunchPerRow(string kernel, int rows, params ReadOnlySpan<KernelArgument> arguments) =>
        Kernels.Launch(kernel, ((long)Saes * rows * 32 + 255) / 256, 256, arguments);

    /// <summary>Copies every run's parameters and Adam state from the GPU into its host SAE and optimiser.</summary>
    public void CopyToHost()
    {
        _device.MakeCurrent();
        var parameters = _parameters.Download();
        var first = _firstMoments.Download();
        var second = _secondMoments.Download();
        for (int g = 0; g < Saes; g++)
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
        for (int g = 0; g < Saes; g++)
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
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        _buffers.Clear();
        foreach (var allocation in _allocations) allocation.Dispose();
        _allocations.Clear();
    }
}
