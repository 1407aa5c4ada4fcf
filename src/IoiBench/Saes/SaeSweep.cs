using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using IoiBench.Activations;
using IoiBench.Dictionaries;
using IoiBench.IO;
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
/// SAEs train in parallel (<see cref="ParallelJobs"/>). SAEs of one node share the scaled data and see the same
/// batches. Each SAE's random streams depend only on the preset's seed and its place in the sweep, so results do not
/// depend on the thread count or on what else is trained, and a resumed sweep finishes with the same weights.
/// </summary>
public static class SaeSweep
{
    public sealed record Result(SiteNode Node, SaeSpec Spec, string Directory, float Scale, IReadOnlyList<EpochMetrics> History,
        ReconstructionQuality Test, double TestL0)
    {
        public EpochMetrics LastEpoch => History[^1];
    }

    private const string StateFile = "training-state.safetensors", MetricsFile = "metrics.csv";
    private static readonly TimeSpan StateInterval = TimeSpan.FromSeconds(30);

    public static SparseAutoencoder Create(SaeSpec spec, int dIn, int width, DeterministicRandom rng) => spec.Variant switch
    {
        "vanilla" => new VanillaSae(dIn, width, spec.Value, rng),
        "gated" => new GatedSae(dIn, width, spec.Value, rng, spec.Options.MagnitudeRelu),
        "topk" => new TopKSae(dIn, width, (int)spec.Value, rng, spec.Options.Relu, spec.Options.EncoderBias)
            { NormaliseDecoder = spec.Options.NormaliseDecoder, AuxK = spec.Options.AuxK, AuxKCoefficient = spec.Options.AuxKCoefficient },
        _ => throw new InvalidInputException($"unknown SAE variant '{spec.Variant}' (vanilla, gated, topk)."),
    };

    private sealed record NodeData(SiteNode Node, int Index, float Scale, Tensor Train, Tensor Test, string DataHash);

    private sealed record Job(NodeData Data, SaeSpec Spec, int SpecIndex, string Directory);

    public static List<Result> Run(TrainingPreset preset, SiteActivations train, SiteActivations test, string outputDirectory, string modelName,
        IProgress<ProgressUpdate>? progress = null, int? workers = null)
    {
        var nodes = train.Nodes.Select((node, index) =>
        {
            var clean = train.Get(node, PromptVariant.Clean);
            float scale = ActivationScale.Of(clean);
            var data = ActivationScale.Apply(clean, scale);
            return new NodeData(node, index, scale, data, ActivationScale.Apply(test.Get(node, PromptVariant.Clean), scale), Hash(data));
        }).ToList();
        var jobs = nodes.SelectMany(n => preset.Saes.Select((spec, s) => new Job(n, spec, s, Path.Combine(outputDirectory, n.Node.ToString(), spec.Name)))).ToList();

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

        ParallelJobs.For(jobs.Count, j => results[j] = RunJob(preset, jobs[j], modelName, Report), workers);
        return [.. results];
    }

    private static Result RunJob(TrainingPreset preset, Job job, string modelName, Action<long, long, bool> report)
    {
        var (data, spec) = (job.Data, job.Spec);
        ulong stream = (ulong)(data.Index * preset.Saes.Count + job.SpecIndex);
        var options = preset.Options with { Seed = preset.Options.Seed + (ulong)data.Index };
        string fingerprint = Fingerprint(preset, spec, stream, data);
        var metadata = new SaeFile.Metadata(modelName, data.Node.ToString(), data.Node.Layer, data.Node.Head,
            $"blocks.{data.Node.Layer}.attn.hook_{data.Node.Hook.ToString().ToLowerInvariant()}", data.Scale) { TrainingFingerprint = fingerprint };

        SparseAutoencoder sae;
        IReadOnlyList<EpochMetrics> history;
        if (File.Exists(Path.Combine(job.Directory, SaeFile.ConfigFile)))
        {
            var (saved, cfg) = SaeFile.Load(job.Directory);
            if (cfg["ioibench"]?["training_fingerprint"]?.GetValue<string>() != fingerprint)
                throw new InvalidInputException($"{job.Directory} holds an SAE trained from another preset, seed or data; " +
                                                "give a new --output or delete it.");
            (sae, history) = (saved, ReadMetrics(Path.Combine(job.Directory, MetricsFile)));
            report(options.Epochs, 0, true);
        }
        else
        {
            sae = Create(spec, data.Train.Shape[1], preset.Width, new DeterministicRandom(preset.Options.Seed, stream));
            var run = new SaeTrainingRun(sae, data.Train, options);
            string statePath = Path.Combine(job.Directory, StateFile);
            if (run.TryRestore(statePath, fingerprint)) report(run.EpochsDone, 0, false);
            var lastSave = Stopwatch.StartNew();
            while (!run.Finished)
            {
                var metrics = run.RunEpoch();
                if (!run.Finished) report(1, data.Train.Shape[0], false);   // the last epoch counts once the SAE is saved
                if (options.Checkpoints.Contains(metrics.Epoch) && metrics.Epoch < options.Epochs)
                    SaeFile.Save(Path.Combine(job.Directory, "checkpoints", $"epoch-{metrics.Epoch:D4}"), sae, metadata with { Epoch = metrics.Epoch });
                if (!run.Finished && (lastSave.Elapsed >= StateInterval || options.Checkpoints.Contains(metrics.Epoch)))
                {
                    run.SaveState(statePath, fingerprint);
                    lastSave.Restart();
                }
            }
            history = run.History;
            AtomicFile.WriteAllText(Path.Combine(job.Directory, MetricsFile), MetricsCsv(history));
            SaeFile.Save(job.Directory, sae, metadata with { Epoch = options.Epochs });
            File.Delete(statePath);
            report(1, data.Train.Shape[0], true);
        }

        var latents = sae.Encode(data.Test);
        var quality = ReconstructionQuality.Measure(data.Test, sae.Decode(latents));
        double l0 = LatentKernels.CountNonZero(latents.Span) / (double)data.Test.Shape[0];
        return new Result(data.Node, spec, job.Directory, data.Scale, history, quality, l0);
    }

    private static string Hash(Tensor data) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(data.Span)));

    private static string Fingerprint(TrainingPreset preset, SaeSpec spec, ulong stream, NodeData data)
    {
        var o = preset.Options;
        string text = string.Join("|", preset.Width, spec, o.BatchSize, o.Epochs, o.LearningRate.ToString("R", CultureInfo.InvariantCulture), o.Seed,
            string.Join(",", o.ResampleAfterEpochs), o.WarmupEpochs, o.DecoderBiasFromMean, stream, data.Node, data.DataHash);
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
            double D(int k) => double.Parse(f[k], CultureInfo.InvariantCulture);
            return f.Length == 9
                ? new EpochMetrics(int.Parse(f[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5), D(6), D(7), int.Parse(f[8], CultureInfo.InvariantCulture))
                : throw new InvalidInputException($"{path}:{i + 2}: expected 9 fields.");
        })];
    }
}
