using IoiBench.Activations;
using IoiBench.Numerics;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Tests.Saes;

[Collection(GemmThreadsCollection.Name)]
public class TrainingRunTests
{
    private static Tensor RandomData(int n, int d, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var x = new Tensor(n, d);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)rng.NextGaussian();
        return x;
    }

    [Fact]
    public void EpochMetricsByHand()
    {
        // The hand-built SAE of SaeExactValueTests with a third latent that never fires. One batch per epoch, and the
        // metrics describe the parameters before the step: mse (1 + 1.25) / 2, L1 3 / 2, L0 1, one of three latents dead.
        // Explained variance: x̄ = (1.5, 1.25), both rows deviate by ‖(1.5, 0.75)‖² = 2.8125, so 1 − 1.125 / 2.8125 = 0.6.
        var sae = SaeExactValueTests.HandBuiltVanilla(3);
        var run = new SaeTrainingRun(sae, Tensor.From([3, 2, 0, 0.5f], 2, 2), new TrainingOptions(BatchSize: 2, Epochs: 1, LearningRate: 0.01f));
        var m = run.RunEpoch();
        Assert.Equal(1, m.Epoch);
        Assert.Equal(1.125, m.Reconstruction, 6);
        Assert.Equal(1.5, m.Sparsity, 6);
        Assert.Equal(1.125 + 0.5 * 1.5, m.Loss, 6);
        Assert.Equal(1.0, m.L0, 6);
        Assert.Equal(1.0 / 3, m.FractionDead, 12);
        Assert.Equal(0.6, m.ExplainedVariance, 6);
        Assert.Equal(0.01, m.LearningRate, 6);
        Assert.True(run.Finished);
    }

    [Fact]
    public void TheLearningRateWarmsUpFromATenthAfterAResampleThatFoundDeadLatentsAndDecaysOverTheLastQuarter()
    {
        var options = new TrainingOptions(Epochs: 8, LearningRate: 1f) { ResampleAfterEpochs = [1], WarmupEpochs = 2 };
        Assert.Equal([1f, 1f, 0.1f, 0.55f, 1f, 1f, 1f, 0.5f], Enumerable.Range(0, 8).Select(e => options.LearningRateAt(e, [1])));
        // A scheduled resample that found no dead latent brings no warm-up.
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f, 1f, 0.5f], Enumerable.Range(0, 8).Select(e => options.LearningRateAt(e, [])));
    }

    [Fact]
    public void TheReferenceScheduleCompoundsItsDecayAndStopsItsWarmUpOneStepShort()
    {
        // 16 epochs: the decay starts at step 12 (the last quarter); a resample after epoch 1 with 4 warm-up epochs.
        var options = new TrainingOptions(Epochs: 16, LearningRate: 1f) { ResampleAfterEpochs = [1], WarmupEpochs = 4, Schedule = LearningRateSchedule.Reference };
        // The scheduler's step counter is 1 before epoch 0 and 2 + e after epoch e. After epoch 1 (step 3) the rate is
        // cut to 0.1; steps 4, 5, 6 ramp it by 0.1 + 0.9·(step − 3)/4 to 0.325, 0.55, 0.775; at step 7 the warm-up
        // ends one step short, and the rate stays at 0.775. From step 12 the decay multiplies the rate by
        // 1 − (step − 12)/4: ×1, ×0.75, ×0.5, ×0.25, ×0.
        double[] expected = [1, 1, 0.1, 0.325, 0.55, 0.775, 0.775, 0.775, 0.775, 0.775, 0.775, 0.775, 0.775 * 0.75, 0.775 * 0.75 * 0.5,
            0.775 * 0.75 * 0.5 * 0.25, 0];
        var rates = Enumerable.Range(0, 16).Select(e => options.LearningRateAt(e, [1])).ToArray();
        for (int e = 0; e < 16; e++) Assert.Equal(expected[e], rates[e], 6);
        // Without a resample: constant, then the compounding decay.
        double[] plain = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.75, 0.375, 0.09375, 0];
        var plainRates = Enumerable.Range(0, 16).Select(e => options.LearningRateAt(e, [])).ToArray();
        for (int e = 0; e < 16; e++) Assert.Equal(plain[e], plainRates[e], 6);
    }

    [Theory]
    [InlineData("vanilla", 10, true)]
    [InlineData("vanilla", 0, false)]
    [InlineData("gated", 10, true)]
    [InlineData("topk", 10, false)]
    public void TheWarmUpFollowsOnlyAResampleThatFoundDeadLatents(string variant, int deadLatents, bool warmsUp)
    {
        var data = RandomData(200, 6, 1);
        var rng = new DeterministicRandom(2);
        SparseAutoencoder sae = variant switch
        {
            "vanilla" => new VanillaSae(6, 64, 1f, rng),
            "gated" => new GatedSae(6, 64, 1f, rng),
            _ => new TopKSae(6, 64, 2, rng),
        };
        string bias = variant == "gated" ? "b_gate" : "b_enc";
        for (int j = 0; j < deadLatents; j++) sae.Parameters[bias].Span[j] = -100;   // latents that cannot fire
        var options = new TrainingOptions(BatchSize: 50, Epochs: 8, LearningRate: 1e-3f) { ResampleAfterEpochs = [1], WarmupEpochs = 2 };
        var history = SaeTrainer.Train(sae, data, options);
        bool resampled = history[1].Resampled > 0;
        Assert.Equal(warmsUp, resampled);   // top-k is never resampled; vanilla without dead latents has nothing to resample
        float[] expected = warmsUp ? [1e-3f, 1e-3f, 1e-4f, 5.5e-4f, 1e-3f, 1e-3f, 1e-3f, 5e-4f] : [1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 5e-4f];
        for (int e = 0; e < 8; e++) Assert.Equal(expected[e], history[e].LearningRate, 7);
    }

    [Fact]
    public void ResamplingRunsAfterTheScheduledEpochsOnly()
    {
        var data = RandomData(200, 6, 1);
        var sae = new VanillaSae(6, 64, 1f, new DeterministicRandom(2));
        for (int j = 0; j < 10; j++) sae.Parameters["b_enc"].Span[j] = -100;   // ten latents that cannot fire
        var history = SaeTrainer.Train(sae, data, new TrainingOptions(BatchSize: 50, Epochs: 4, LearningRate: 1e-3f) { ResampleAfterEpochs = [1] });
        Assert.Equal([0, 10, 0, 0], history.Select(h => h.Resampled));
        Assert.Equal(10 / 64.0, history[1].FractionDead, 12);
        Assert.True(sae.Parameters["b_enc"].Span[0] > -1);   // reset to 0 by the resample, then trained
    }

    [Theory]
    [InlineData("vanilla")]
    [InlineData("gated")]
    [InlineData("topk")]
    [InlineData("topk-auxk")]
    public void ARestoredRunFinishesWithTheWeightsOfAnUninterruptedOne(string variant)
    {
        var data = RandomData(300, 8, 3);
        var options = new TrainingOptions(BatchSize: 64, Epochs: 6, LearningRate: 1e-2f, Seed: 5) { ResampleAfterEpochs = [3], WarmupEpochs = 2 };
        var spec = variant switch
        {
            "topk" => new SaeSpec("topk", 3),
            "topk-auxk" => new SaeSpec("topk", 3, new TopKOptions(Relu: false, AuxK: 4)),
            _ => new SaeSpec(variant, 1f),
        };
        SparseAutoencoder New(ulong seed)
        {
            var sae = spec.Create(8, 32, new DeterministicRandom(seed));
            // Six latents start far below the others and stay out of the top 3: the dead set the AuxK term reads, which
            // the state must carry over.
            if (variant == "topk-auxk")
                for (int j = 0; j < 6; j++) sae.Parameters["b_enc"].Span[j] = -5;
            return sae;
        }

        var uninterrupted = new SaeTrainingRun(New(1), data, options);
        while (!uninterrupted.Finished) uninterrupted.RunEpoch();

        using var dir = new TestPaths.TempDirectory();
        var first = new SaeTrainingRun(New(1), data, options);
        for (int e = 0; e < 2; e++) first.RunEpoch();
        if (variant == "topk-auxk") Assert.Contains(true, ((TopKSae)first.Sae).DeadLatents!);
        first.SaveState(dir.File("state.safetensors"), "run-a");

        var resumed = new SaeTrainingRun(New(99), data, options);   // another initialisation: the restore must overwrite it all
        Assert.False(resumed.TryRestore(dir.File("state.safetensors"), "run-b"));
        Assert.True(resumed.TryRestore(dir.File("state.safetensors"), "run-a"));
        Assert.Equal(2, resumed.EpochsDone);
        while (!resumed.Finished) resumed.RunEpoch();

        foreach (var (name, tensor) in uninterrupted.Sae.Parameters.Tensors)
            Assert.Equal(tensor.Span.ToArray(), resumed.Sae.Parameters[name].Span.ToArray());
        Assert.Equal(uninterrupted.History, resumed.History);
    }

    private sealed class StopAfter(int reports) : IProgress<ProgressUpdate>
    {
        private int _seen;
        public void Report(ProgressUpdate value)
        {
            if (++_seen > reports) throw new OperationCanceledException("interrupted");
        }
    }

    [Fact]
    public void AnInterruptedSweepResumesFromItsLastStateAndEndsWhereAnUninterruptedOneEnds()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("preset.yaml"),
            "width: 16\nbatch_size: 8\nepochs: 4\nlearning_rate: 0.01\nseed: 4\ncheckpoints: [1, 2, 4]\nresample_after_epochs: [1]\nwarmup_epochs: 1\n" +
            "variants:\n  gated:\n    l1: [1]\n  topk:\n    k: [2]\n");
        var preset = TrainingPreset.Load(dir.File("preset.yaml"));
        var nodes = new[] { SiteNode.Parse("z@1.1@end") };
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        var train = ActivationExtractor.Extract(model, dataset.Train, nodes);
        var test = ActivationExtractor.Extract(model, dataset.Test, nodes);

        var reference = SaeSweep.Run(preset, train, test, dir.File("uninterrupted"), "tiny", workers: 1);
        // One worker: the gated SAE reports epochs 1, 2 and 3, and the third report stops the sweep before epoch 3's
        // state is written, so the resumed sweep starts from the state saved at checkpoint 2.
        Assert.ThrowsAny<Exception>(() => SaeSweep.Run(preset, train, test, dir.File("resumed"), "tiny", new StopAfter(2), workers: 1));
        string gatedDirectory = Path.Combine(dir.File("resumed"), "z@1.1@end", "gated-l1-1");
        Assert.True(File.Exists(Path.Combine(gatedDirectory, "training-state.safetensors")));
        Assert.False(File.Exists(Path.Combine(gatedDirectory, "cfg.json")));
        var resumed = SaeSweep.Run(preset, train, test, dir.File("resumed"), "tiny", workers: 1);

        for (int i = 0; i < reference.Count; i++)
        {
            var expected = SaeFile.Load(reference[i].Directory).Sae.Parameters;
            var actual = SaeFile.Load(resumed[i].Directory).Sae.Parameters;
            foreach (var (name, tensor) in expected.Tensors) Assert.Equal(tensor.Span.ToArray(), actual[name].Span.ToArray());
            Assert.Equal(reference[i].History, resumed[i].History);
            Assert.Equal(4, resumed[i].History.Count);
            Assert.True(File.Exists(Path.Combine(resumed[i].Directory, "checkpoints", "epoch-0002", "cfg.json")));
            Assert.False(File.Exists(Path.Combine(resumed[i].Directory, "training-state.safetensors")));
        }
        Assert.False(Directory.Exists(Path.Combine(gatedDirectory, "checkpoints", "epoch-0004")));   // the last epoch is the SAE itself

        // A finished sweep is read back, not retrained; a different preset in the same directory is refused.
        Assert.Equal(reference.Select(r => r.TestL0), SaeSweep.Run(preset, train, test, dir.File("resumed"), "tiny").Select(r => r.TestL0));
        var other = preset with { Options = preset.Options with { LearningRate = 0.02f } };
        var e = Assert.ThrowsAny<Exception>(() => SaeSweep.Run(other, train, test, dir.File("resumed"), "tiny"));
        Assert.Contains("another preset", (e as AggregateException)?.InnerExceptions[0].Message ?? e.Message);
    }
}
