using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// The ground-truth check of the SAE trainers: train every SAE of a preset on <see cref="SyntheticFeatures"/> data and
/// measure how well its decoder rows recover the true features (mean max cosine similarity, 1 = all recovered).
/// </summary>
public static class SyntheticRecovery
{
    public sealed record Setting(int Dimension = 64, int Features = 128, int Samples = 20_000, double MeanActive = 5, ulong Seed = 1);

    public sealed record Result(SaeSpec Spec, double MeanMaxCosine, EpochMetrics LastEpoch);

    public static List<Result> Run(TrainingPreset preset, Setting setting, IProgress<ProgressUpdate>? progress = null)
    {
        var data = new SyntheticFeatures(setting.Dimension, setting.Features, setting.Samples, setting.MeanActive, setting.Seed);
        var results = new Result[preset.Saes.Count];
        int done = 0;
        ParallelJobs.For(preset.Saes.Count, s =>
        {
            var spec = preset.Saes[s];
            var sae = spec.Create(setting.Dimension, preset.Width, new DeterministicRandom(preset.Options.Seed, (ulong)s));
            var history = SaeTrainer.Train(sae, data.Samples, preset.Options);
            results[s] = new Result(spec, SyntheticFeatures.MeanMaxCosine(data.Features, sae.Parameters["W_dec"]), history[^1]);
            progress?.Report(new ProgressUpdate("training SAEs on synthetic data", Interlocked.Increment(ref done), preset.Saes.Count));
        });
        return [.. results];
    }
}
