using System.Text.Json;
using System.Text.Json.Serialization;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>What one epoch measured: means over its examples, the learning rate it ran at, and how many latents were
/// resampled after it.</summary>
public sealed record EpochMetrics(int Epoch, double Loss, double Reconstruction, double Sparsity, double L0,
    double FractionDead, double ExplainedVariance, double LearningRate, int Resampled = 0);

/// <summary>
/// What an epoch's batches added up: Σ over batches of (loss term × batch size) for the total loss, the reconstruction
/// error, the sparsity term and L0; and which latents were nonzero on at least one example.
/// </summary>
public sealed record EpochTotals(double Loss, double Reconstruction, double Sparsity, double L0, bool[] Fired);

/// <summary>
/// One SAE being trained: the SAE, its Adam state and the epochs done so far. Each epoch's shuffle and each resample
/// draw from a random stream of (seed, epoch) alone, so a run restored from <see cref="SaveState"/> continues exactly
/// as if it had never stopped.
/// </summary>
public sealed class SaeTrainingRun
{
    private const string StateKey = "ioibench_training_state";
    private readonly Tensor _data;
    private readonly double _meanVariance;
    private readonly List<EpochMetrics> _history = [];

    public SparseAutoencoder Sae { get; }
    public TrainingOptions Options { get; }
    public Adam Optimizer { get; }
    public IReadOnlyList<EpochMetrics> History => _history;
    public int EpochsDone => _history.Count;
    public bool Finished => EpochsDone >= Options.Epochs;

    /// <summary>
    /// The first epoch (1-based) whose loss was not finite: the SAE diverged (e.g. a learning rate far too high), and its
    /// parameters from then on are meaningless. Null while it trains normally.
    /// </summary>
    public int? DivergedAt => _history.FirstOrDefault(m => !double.IsFinite(m.Loss))?.Epoch;

    public SaeTrainingRun(SparseAutoencoder sae, Tensor data, TrainingOptions options)
    {
        if (data.Rank != 2 || data.Shape[1] != sae.DIn)
            throw new ArgumentException($"Training data {data} does not match the SAE's d_in = {sae.DIn}.");
        Sae = sae;
        _data = data;
        Options = options;
        Optimizer = new Adam(sae.Parameters);
        var mean = ColumnMeans(data);
        _meanVariance = MeanSquaredDeviation(data, mean);
        if (options.DecoderBiasFromMean)
            for (int i = 0; i < mean.Length; i++) sae.Parameters["b_dec"].Span[i] = (float)mean[i];
    }

    /// <summary>Trains one epoch on the CPU (then resamples dead latents if this epoch is on the schedule) and returns its metrics.</summary>
    public EpochMetrics RunEpoch()
    {
        var (order, rate) = StartEpoch();
        int d = _data.Shape[1];
        var gradients = Sae.Parameters.ZerosLike();
        var fired = new bool[Sae.DSae];
        double loss = 0, reconstruction = 0, sparsity = 0, l0 = 0;
        for (int start = 0; start < order.Length; start += Options.BatchSize)
        {
            int size = Math.Min(Options.BatchSize, order.Length - start);
            var batch = new Tensor(size, d);
            for (int r = 0; r < size; r++) _data.Row(order[start + r]).CopyTo(batch.Row(r));
            gradients.Clear();
            var result = Sae.Loss(batch, gradients);
            // The metrics and the fired set come from the parameters before this step, as the reference's do.
            MarkFired(result.Latents, fired);
            Optimizer.Step(gradients, rate);
            Sae.AfterStep();
            loss += result.Total * size; reconstruction += result.Reconstruction * size;
            sparsity += result.Sparsity * size; l0 += result.L0 * size;
        }
        return FinishEpoch(new EpochTotals(loss, reconstruction, sparsity, l0, fired));
    }

    /// <summary>What the SAE needs for inference from its training data (<see cref="SparseAutoencoder.PrepareForInference"/>).</summary>
    public void PrepareForInference() => Sae.PrepareForInference(_data, Options.BatchSize);

    /// <summary>The training data, [n, d_in].</summary>
    internal Tensor Data => _data;

    /// <summary>
    /// The next epoch's order of the training rows and its learning rate: the order depends only on (seed, epoch), so
    /// every backend and every resumed run sees the same batches.
    /// </summary>
    public (int[] Order, float LearningRate) StartEpoch() =>
        (Shuffle(_data.Shape[0], new DeterministicRandom(Options.Seed, stream: (ulong)EpochsDone)), LearningRate);

    /// <summary>The learning rate of the next epoch, from the schedule and the epochs after which latents were resampled.</summary>
    public float LearningRate => Options.LearningRateAt(EpochsDone, ResampledAfter);

    /// <summary>The 0-based epochs after which dead latents were resampled (none for variants that are never resampled).</summary>
    private int[] ResampledAfter => [.. _history.Where(m => m.Resampled > 0).Select(m => m.Epoch - 1)];

    /// <summary>Whether dead latents are resampled after the epoch now running (the SAE's parameters are needed on the host).</summary>
    public bool ResamplesAfterEpoch => Options.ResampleAfterEpochs.Contains(EpochsDone) && Sae.Variant.Resampling is not null;

    /// <summary>
    /// Ends the epoch started by <see cref="StartEpoch"/>, given what its batches summed (each batch's loss terms times
    /// its size) and which latents fired: marks dead latents, resamples them if on the schedule, records the metrics.
    /// </summary>
    public EpochMetrics FinishEpoch(EpochTotals totals)
    {
        int n = _data.Shape[0], epoch = EpochsDone;
        float rate = LearningRate;   // the rate this epoch ran at, before its own resample counts
        var dead = Enumerable.Range(0, Sae.DSae).Where(j => !totals.Fired[j]).ToList();
        if (Sae is IUsesDeadLatents { WantsDeadLatents: true } auxiliary) auxiliary.DeadLatents = [.. totals.Fired.Select(f => !f)];
        int resampled = 0;
        if (ResamplesAfterEpoch)
        {
            DeadLatentResampler.Resample(Sae, Optimizer, _data, dead, new DeterministicRandom(Options.Seed, stream: (1UL << 32) | (uint)epoch));
            resampled = dead.Count;
        }
        var metrics = new EpochMetrics(epoch + 1, totals.Loss / n, totals.Reconstruction / n, totals.Sparsity / n, totals.L0 / n,
            dead.Count / (double)Sae.DSae, 1 - totals.Reconstruction / n / _meanVariance, rate, resampled);
        _history.Add(metrics);
        return metrics;
    }

    /// <summary>A permutation of 0…n−1 (Fisher–Yates).</summary>
    private static int[] Shuffle(int n, DeterministicRandom rng)
    {
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static void MarkFired(Tensor latents, bool[] fired)
    {
        for (int r = 0; r < latents.Shape[0]; r++)
        {
            var row = latents.Row(r);
            for (int j = 0; j < fired.Length; j++) fired[j] |= row[j] != 0;
        }
    }

    private static double[] ColumnMeans(Tensor data)
    {
        int n = data.Shape[0], d = data.Shape[1];
        var mean = new double[d];
        for (int r = 0; r < n; r++)
        {
            var row = data.Row(r);
            for (int i = 0; i < d; i++) mean[i] += row[i];
        }
        for (int i = 0; i < d; i++) mean[i] /= n;
        return mean;
    }

    /// <summary>Mean over examples of ‖x − x̄‖², the denominator of explained variance.</summary>
    private static double MeanSquaredDeviation(Tensor data, double[] mean)
    {
        double total = 0;
        for (int r = 0; r < data.Shape[0]; r++)
        {
            var row = data.Row(r);
            for (int i = 0; i < mean.Length; i++) total += Math.Pow(row[i] - mean[i], 2);
        }
        return total / data.Shape[0];
    }

    /// <summary>
    /// Writes the parameters, the optimiser state and the history to one safetensors file (atomically), tagged with
    /// <paramref name="fingerprint"/>: what the run was started from, so a state is never resumed into another run.
    /// </summary>
    public void SaveState(string path, string fingerprint)
    {
        var tensors = Sae.Parameters.Tensors.ToDictionary(p => "param." + p.Key, p => p.Value);
        foreach (var (name, tensor) in Optimizer.State()) tensors.Add(name, tensor);
        var state = new TrainingState(fingerprint, Optimizer.Steps, [.. _history], (Sae as IUsesDeadLatents)?.DeadLatents);
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { [StateKey] = JsonSerializer.Serialize(state, TrainingStateJson.Default.TrainingState) });
    }

    /// <summary>
    /// Continues from a state written by <see cref="SaveState"/> for the same fingerprint. Returns false (and changes
    /// nothing) when there is no state file or it belongs to another run; a damaged one (truncated, or failing its
    /// checksum) is reported as a warning and the run starts over.
    /// </summary>
    public bool TryRestore(string path, string fingerprint)
    {
        if (!File.Exists(path)) return false;
        SafeTensorsFile file;
        try
        {
            file = SafeTensorsFile.Open(path);
        }
        catch (InvalidInputException e)
        {
            Warnings.Emit($"training state {path} is unusable ({e.Message}); training that SAE from the start.");
            return false;
        }
        using var _ = file;
        if (!file.Metadata.TryGetValue(StateKey, out string? json)) return false;
        var state = JsonSerializer.Deserialize(json, TrainingStateJson.Default.TrainingState);
        if (state is null || state.Fingerprint != fingerprint) return false;
        foreach (var (name, tensor) in Sae.Parameters.Tensors) file.ReadFloat32("param." + name).Span.CopyTo(tensor.Span);
        Optimizer.Restore(state.AdamSteps, file.ReadFloat32);
        _history.Clear();
        _history.AddRange(state.History);
        if (Sae is IUsesDeadLatents auxiliary) auxiliary.DeadLatents = state.DeadLatents;
        return true;
    }

}

/// <summary>What a resumed run needs besides tensors; DeadLatents: the AuxK candidates found by the last epoch.</summary>
internal sealed record TrainingState(string Fingerprint, int AdamSteps, EpochMetrics[] History, bool[]? DeadLatents);

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(TrainingState))]
internal sealed partial class TrainingStateJson : JsonSerializerContext;
