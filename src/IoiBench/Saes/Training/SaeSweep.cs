using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using IoiBench.Activations;
using IoiBench.Dictionaries;
using IoiBench.Cuda;
using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Sites;

namespace IoiBench.Saes;

/// <summary>
/// Trains every (node, SAE) pair of a preset on the train activations (scaled per node), scores each on the test
/// activations and saves it in SAELens's layout:
/// <code>
/// OUTPUT/NODE/SAE/cfg.json, sae_weights.safetensors, metrics.csv   the final SAE and its per-epoch metrics
/// OUTPUT/NODE/SAE/checkpoints/epoch-N/                             the preset's checkpoints
/// OUTPUT/NODE/SAE/training-state.safetensors                       while training: what a resumed sweep continues from
/// </code>
/// On the CPU, SAEs train in parallel (<see cref="ParallelJobs"/>); on a GPU, all SAEs of a variant train in lockstep
/// (<see cref="BatchedSaeTrainer"/>). SAEs of one node share the scaled data and see the same
/// batches. Each SAE's random streams depend only on the preset's seed and its place in the sweep, so results do not
/// depend on the thread count or on what else is trained, and a resumed sweep finishes with the same weights.
/// </summary>
public static class SaeSweep
{
    /// <summary>
    /// One trained SAE; <see cref="TrainedOn"/> is "cpu", "cuda", or "unknown" for a file older than the field. An SAE
    /// that diverged (<see cref="DivergedAt"/>: the first epoch whose loss was not finite) stopped there: it has no final
    /// files and NaN test scores, and only its checkpoints from before that epoch can be used.
    /// </summary>
    public sealed record Result(SiteNode Node, SaeSpec Spec, string Directory, float Scale, IReadOnlyList<EpochMetrics> History,
        ReconstructionQuality Test, double TestL0, string TrainedOn, int? DivergedAt = null)
    {
        public EpochMetrics LastEpoch => History[^1];

        /// <summary>The seed the SAE was trained with (one of the preset's <see cref="TrainingPreset.Seeds"/>).</summary>
        public ulong Seed { get; init; }

        /// <summary>The SAE's name: the spec's, with "-seedN" for every seed but the preset's first.</summary>
        public string Name => System.IO.Path.GetFileName(Directory);
    }

    private const string StateFile = "training-state.safetensors", MetricsFile = "metrics.csv";

    /// <summary>What a diverged SAE leaves instead of cfg.json: its fingerprint and the epoch it diverged at.</summary>
    public const string DivergedFile = "diverged.json";

    private sealed record NodeData(SiteNode Node, int Index, float Scale, Tensor Train, Tensor Test, string DataHash);

    /// <summary>One SAE to train: a node, a spec (its index in the preset) and a seed, and where it goes.</summary>
    private sealed record Job(NodeData Data, SaeSpec Spec, int SpecIndex, ulong Seed, string Directory);

    /// <summary>The directory name of a spec's SAE trained with <paramref name="seed"/>: the first seed's keeps the spec's name.</summary>
    public static string SaeName(TrainingPreset preset, SaeSpec spec, ulong seed) => seed == preset.Seeds[0] ? spec.Name : $"{spec.Name}-seed{seed}";

    /// <summary>
    /// Trains (or finds already trained) every SAE of the preset; <paramref name="basis"/>, when given, is recorded in
    /// each SAE's file as the basis its activations were read in.
    /// </summary>
    public static List<Result> Run(TrainingPreset preset, SiteActivations train, SiteActivations test, string outputDirectory, string modelName,
        IProgress<ProgressUpdate>? progress = null, int? workers = null, ComputeDevice device = ComputeDevice.Cpu, SweepTimings? timings = null,
        Model.ModelBasis? basis = null)
    {
        timings ??= new SweepTimings();
        var gpu = device == ComputeDevice.Cuda ? CudaDevice.Open() : null;   // before any work: a missing GPU fails fast
        AtomicFile.RemoveOrphans(outputDirectory);
        var nodes = train.Nodes.Select((node, index) =>
        {
            var clean = train.Get(node, PromptVariant.Clean);
            float scale = ActivationScale.Of(clean);
            var data = ActivationScale.Apply(clean, scale);
            return new NodeData(node, index, scale, data, ActivationScale.Apply(test.Get(node, PromptVariant.Clean), scale), Hash(data));
        }).ToList();
        var jobs = preset.Seeds.SelectMany(seed => nodes.SelectMany(n => preset.Saes.Select((spec, s) =>
            new Job(n, spec, s, seed, Path.Combine(outputDirectory, n.Node.ToString(), SaeName(preset, spec, seed)))))).ToList();

        var results = new Result[jobs.Count];
        long epochsDone = 0, examplesDone = 0, totalEpochs = (long)jobs.Count * preset.Options.Epochs;
        int saesDone = 0;
        var clock = Stopwatch.StartNew();
        var reportLock = new Lock();
        void Report(long epochs, long examples, bool finishedOne)
        {
            lock (reportLock)
            {
                epochsDone += epochs;
                examplesDone += examples;
                if (finishedOne) saesDone++;
                double rate = examplesDone / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                progress?.Report(new ProgressUpdate("training SAEs (epochs)", epochsDone, totalEpochs,
                    $"{saesDone}/{jobs.Count} SAEs, {rate / 1000:F0}k examples/s"));
            }
        }

        if (gpu is not null) TrainOnGpu(gpu, preset, jobs, modelName, basis, Report, results, workers, timings);
        else
        {
            timings.Training.Start();
            ParallelJobs.For(jobs.Count, j => results[j] = TrainOnCpu(preset, jobs[j], modelName, ComputeDevice.Cpu, basis, Report), workers);
            timings.Training.Stop();
        }
        return [.. results];
    }

    private static Result TrainOnCpu(TrainingPreset preset, Job job, string modelName, ComputeDevice device, Model.ModelBasis? basis,
        Action<long, long, bool> report)
    {
        var started = Start(preset, job, modelName, device, basis, report);
        if (started.Finished is { } finished) return finished;
        var pending = started.Pending!;
        while (!pending.Run.Finished && pending.Run.DivergedAt is null)
        {
            var metrics = pending.Run.RunEpoch();
            var writing = Stopwatch.StartNew();
            if (pending.AfterEpoch(metrics, report)) pending.Clock.Written(writing.Elapsed);
        }
        return pending.Finish(report);
    }

    /// <summary>
    /// Trains the unfinished SAEs in groups that share a variant, options and progress, each group in lockstep on the
    /// GPU (<see cref="BatchedSaeTrainer"/>); checkpoints, resumable states and the final files are the CPU path's.
    /// </summary>
    private static void TrainOnGpu(CudaDevice device, TrainingPreset preset, List<Job> jobs, string modelName, Model.ModelBasis? basis,
        Action<long, long, bool> report, Result[] results, int? workers,
        SweepTimings timings)
    {
        var started = new Started[jobs.Count];
        ParallelJobs.For(jobs.Count, j => started[j] = Start(preset, jobs[j], modelName, ComputeDevice.Cuda, basis, report), workers);
        var pending = new List<(int Index, PendingJob Job)>();
        for (int j = 0; j < jobs.Count; j++)
        {
            if (started[j].Finished is { } finished) results[j] = finished;
            else pending.Add((j, started[j].Pending!));
        }
        var groups = GpuGroups(pending, p => (p.Job.Spec.Variant, p.Job.Spec.Options, p.Job.Run.EpochsDone),
            p => BatchedSaeTrainer.BytesPerRun(p.Job.Run), device.FreeMemory);
        foreach (var group in groups)
        {
            var members = group.ToList();
            // The group's states are written together, so one clock paces them.
            var clock = new StateClock();
            foreach (var (_, job) in members) job.Clock = clock;
            using var trainer = new BatchedSaeTrainer(device, [.. members.Select(m => m.Job.Run)]);
            while (!members[0].Job.Run.Finished)
            {
                timings.Training.Start();
                var metrics = trainer.RunEpoch();
                timings.Training.Stop();
                timings.Saving.Start();
                var writing = Stopwatch.StartNew();
                if (members.Select((m, i) => m.Job.WantsSave(metrics[i])).Any(wants => wants)) trainer.CopyToHost();
                var wroteState = new bool[members.Count];
                ParallelJobs.For(members.Count, i => wroteState[i] = members[i].Job.AfterEpoch(metrics[i], report));
                if (wroteState.Any(wrote => wrote)) clock.Written(writing.Elapsed);
                timings.Saving.Stop();
            }
            timings.Finishing.Start();
            trainer.CopyToHost();
            ParallelJobs.For(members.Count, i => results[members[i].Index] = members[i].Job.Finish(report), workers);
            timings.Finishing.Stop();
        }
    }

    /// <summary>
    /// The GPU's training groups: items with equal keys (variant, its options, epochs done) train together, as many at
    /// a time as fit in 80% of <paramref name="freeBytes"/> (at least one), in the order they came.
    /// </summary>
    internal static List<T[]> GpuGroups<T, TKey>(IEnumerable<T> items, Func<T, TKey> key, Func<T, long> bytes, long freeBytes) =>
        [.. items.GroupBy(key).SelectMany(group => group.Chunk((int)Math.Clamp(freeBytes * 8 / 10 / group.Max(bytes), 1, int.MaxValue)))];

    /// <summary>An SAE of the sweep that is already on disk (<see cref="Finished"/>), or one to train.</summary>
    private sealed record Started(Result? Finished, PendingJob? Pending);

    /// <summary>Loads a finished SAE, or sets up its training run, restored from its saved state when there is one.</summary>
    private static Started Start(TrainingPreset preset, Job job, string modelName, ComputeDevice device, Model.ModelBasis? basis,
        Action<long, long, bool> report)
    {
        var (data, spec) = (job.Data, job.Spec);
        // The first seed's SAEs draw exactly as a one-seed preset's; another seed changes every stream.
        ulong stream = (ulong)(data.Index * preset.Saes.Count + job.SpecIndex);
        var options = preset.Options with { Seed = job.Seed + (ulong)data.Index };
        string fingerprint = Fingerprint(preset, spec, job.Seed, stream, data);
        var metadata = new SaeFile.Metadata(modelName, data.Node.ToString(), data.Node.Layer, data.Node.Head,
            data.Node.Hook.TransformerLensName(data.Node.Layer), data.Scale)
            { TrainingFingerprint = fingerprint, TrainingDevice = device.Name(), Basis = basis?.Name() };

        if (ReadDiverged(job.Directory) is { } diverged)
        {
            if (diverged.Fingerprint != fingerprint)
                throw new InvalidInputException($"{job.Directory} holds an SAE trained from another preset, seed or data; give a new --output or delete it.");
            report(options.Epochs, 0, true);
            return new Started(Diverged(job, ReadMetrics(Path.Combine(job.Directory, MetricsFile)), diverged.TrainedOn), null);
        }
        if (File.Exists(Path.Combine(job.Directory, SaeFile.ConfigFile)))
        {
            var cfg = SaeFile.ReadConfig(job.Directory);
            if (cfg["ioibench"]?["training_fingerprint"]?.GetValue<string>() != fingerprint)
                throw new InvalidInputException($"{job.Directory} holds an SAE trained from another preset, seed or data; " +
                                                "give a new --output or delete it.");
            if (LoadFinished(job) is { } finished)
            {
                report(options.Epochs, 0, true);
                string trainedOn = cfg["ioibench"]?["training_device"]?.GetValue<string>() ?? "unknown";
                return new Started(Score(job, finished.Sae, finished.History, trainedOn), null);
            }
        }
        var sae = spec.Create(data.Train.Shape[1], preset.Width, new DeterministicRandom(job.Seed, stream));
        var run = new SaeTrainingRun(sae, data.Train, options);
        var pending = new PendingJob(job, run, metadata, fingerprint);
        if (run.TryRestore(pending.StatePath, fingerprint)) report(run.EpochsDone, 0, false);
        return new Started(null, pending);
    }

    /// <summary>
    /// A finished SAE's final files, its metrics and its checkpoints, each read and checked (checksums included); null,
    /// after a warning and with the SAE's directory cleared, when any is damaged, so that the SAE is trained again.
    /// </summary>
    private static (SparseAutoencoder Sae, List<EpochMetrics> History)? LoadFinished(Job job)
    {
        try
        {
            var (sae, _) = SaeFile.Load(job.Directory);
            var history = ReadMetrics(Path.Combine(job.Directory, MetricsFile));
            string checkpoints = Path.Combine(job.Directory, "checkpoints");
            if (Directory.Exists(checkpoints))
                foreach (string checkpoint in Directory.GetDirectories(checkpoints)) SaeFile.Load(checkpoint);
            return (sae, history);
        }
        catch (InvalidInputException e)
        {
            Warnings.Emit($"{job.Directory}: a saved file is unusable ({e.Message}); training that SAE again.");
            Directory.Delete(job.Directory, recursive: true);
            return null;
        }
    }

    /// <summary>The test-split scores of a trained SAE.</summary>
    private static Result Score(Job job, SparseAutoencoder sae, IReadOnlyList<EpochMetrics> history, string trainedOn)
    {
        var data = job.Data;
        var latents = sae.Encode(data.Test);
        var quality = ReconstructionQuality.Measure(data.Test, sae.Decode(latents));
        double l0 = LatentKernels.CountNonZero(latents.Span) / (double)data.Test.Shape[0];
        return new Result(data.Node, job.Spec, job.Directory, data.Scale, history, quality, l0, trainedOn) { Seed = job.Seed };
    }

    /// <summary>An SAE in training: after each epoch it writes its checkpoints and, when its clock says so, its resumable state.</summary>
    private sealed class PendingJob(Job job, SaeTrainingRun run, SaeFile.Metadata metadata, string fingerprint)
    {
        public StateClock Clock { get; set; } = new();
        public SaeTrainingRun Run => run;
        public SaeSpec Spec => job.Spec;
        public string StatePath => Path.Combine(job.Directory, StateFile);

        private bool IsCheckpoint(EpochMetrics metrics) => run.Options.Checkpoints.Contains(metrics.Epoch) && metrics.Epoch < run.Options.Epochs;

        private bool StateDue(EpochMetrics metrics) => !run.Finished && (Clock.DueAt(metrics.Epoch) | run.Options.Checkpoints.Contains(metrics.Epoch));

        /// <summary>Whether <see cref="AfterEpoch"/> will write files from the SAE's parameters (never once it diverged).</summary>
        public bool WantsSave(EpochMetrics metrics) => run.DivergedAt is null && (IsCheckpoint(metrics) || StateDue(metrics));

        /// <summary>Writes what is due after an epoch; true when that included the resumable state.</summary>
        public bool AfterEpoch(EpochMetrics metrics, Action<long, long, bool> report)
        {
            if (!run.Finished) report(1, run.Data.Shape[0], false);   // the last epoch counts once the SAE is saved
            if (run.DivergedAt is not null) return false;
            if (IsCheckpoint(metrics))
            {
                run.PrepareForInference();
                SaeFile.Save(Path.Combine(job.Directory, "checkpoints", $"epoch-{metrics.Epoch:D4}"), run.Sae, metadata with { Epoch = metrics.Epoch });
            }
            if (!StateDue(metrics)) return false;
            run.SaveState(StatePath, fingerprint);
            return true;
        }

        /// <summary>
        /// Writes the final SAE and its metrics, drops the resumable state, and scores the SAE on the test split; a
        /// diverged SAE leaves its metrics and a <see cref="DivergedFile"/> instead.
        /// </summary>
        public Result Finish(Action<long, long, bool> report)
        {
            if (run.DivergedAt is { } epoch)
            {
                var history = run.History.Take(epoch).ToList();
                AtomicFile.WriteAllText(Path.Combine(job.Directory, MetricsFile), MetricsCsv(history));
                AtomicFile.WriteAllText(Path.Combine(job.Directory, DivergedFile), JsonSerializer.Serialize(
                    new DivergedMarker(fingerprint, epoch, metadata.TrainingDevice!), DivergedJson.Default.DivergedMarker));
                File.Delete(StatePath);
                // Every epoch run so far was counted, but the last of a finished run (see AfterEpoch): count the rest.
                report(run.Options.Epochs - (run.Finished ? run.EpochsDone - 1 : run.EpochsDone), 0, true);
                return Diverged(job, history, metadata.TrainingDevice!);
            }
            AtomicFile.WriteAllText(Path.Combine(job.Directory, MetricsFile), MetricsCsv(run.History));
            run.PrepareForInference();
            SaeFile.Save(job.Directory, run.Sae, metadata with { Epoch = run.Options.Epochs });
            File.Delete(StatePath);
            report(1, run.Data.Shape[0], true);
            return Score(job, run.Sae, run.History, metadata.TrainingDevice!);
        }
    }

    /// <summary>A diverged SAE's result: its history up to the epoch it diverged at, and NaN scores.</summary>
    private static Result Diverged(Job job, IReadOnlyList<EpochMetrics> history, string trainedOn) =>
        new(job.Data.Node, job.Spec, job.Directory, job.Data.Scale, history, new ReconstructionQuality(double.NaN, double.NaN, double.NaN),
            double.NaN, trainedOn, history[^1].Epoch) { Seed = job.Seed };

    private static DivergedMarker? ReadDiverged(string directory)
    {
        string path = Path.Combine(directory, DivergedFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), DivergedJson.Default.DivergedMarker)
                   ?? throw new InvalidInputException($"{path}: empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    private static string Hash(Tensor data) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(data.Span)));

    private static string Fingerprint(TrainingPreset preset, SaeSpec spec, ulong seed, ulong stream, NodeData data)
    {
        var o = preset.Options;
        string text = string.Join("|", preset.Width, spec.Describe(), o.BatchSize, o.Epochs, o.LearningRate.ToString("R", CultureInfo.InvariantCulture), seed,
            string.Join(",", o.ResampleAfterEpochs), o.WarmupEpochs, o.Schedule, o.DecoderBiasFromMean, stream, data.Node, data.DataHash);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    private const string MetricsHeader = "epoch,loss,mse,l1,l0,frac_dead,explained_variance,learning_rate,resampled";

    private static string MetricsCsv(IEnumerable<EpochMetrics> history)
    {
        var csv = new StringBuilder(MetricsHeader).Append('\n');
        foreach (var m in history)
            csv.Append(string.Join(",", m.Epoch, R(m.Loss), R(m.Reconstruction), R(m.Sparsity), R(m.L0), R(m.FractionDead),
                R(m.ExplainedVariance), R(m.LearningRate), m.Resampled)).Append('\n');
        return csv.ToString();
        static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }

    private static List<EpochMetrics> ReadMetrics(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found (a finished SAE of a sweep keeps its per-epoch metrics there).");
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || lines[0] != MetricsHeader) throw new InvalidInputException($"{path}: expected the header '{MetricsHeader}'.");
        return [.. lines.Skip(1).Select((line, i) =>
        {
            var f = line.Split(',');
            if (f.Length != 9) throw new InvalidInputException($"{path}:{i + 2}: expected 9 fields.");
            double D(int k) => double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new InvalidInputException($"{path}:{i + 2}: field {k + 1} '{f[k]}' is not a number.");
            return new EpochMetrics((int)D(0), D(1), D(2), D(3), D(4), D(5), D(6), D(7), (int)D(8));
        })];
    }
}

/// <summary>The contents of <see cref="SaeSweep.DivergedFile"/>.</summary>
internal sealed record DivergedMarker(string Fingerprint, int Epoch, string TrainedOn);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DivergedMarker))]
internal sealed partial class DivergedJson : JsonSerializerContext;
