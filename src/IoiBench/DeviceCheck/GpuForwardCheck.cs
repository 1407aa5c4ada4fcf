using IoiBench.Model;
using IoiBench.Cuda;
using IoiBench.Numerics;

namespace IoiBench.DeviceCheck;

/// <summary>
/// Runs one batch through <see cref="Gpt2Model"/> and <see cref="CudaGpt2Model"/> with the same random weights, raw and
/// with LayerNorms folded, and measures how far apart the logits and every hook point's captures end, with a q and a
/// pattern patch in the pass so that patching is checked too, and a second pass started at layer 1 from the residual
/// stream the first read there: the check that the GPU forward implements the CPU's.
/// </summary>
internal static class GpuForwardCheck
{
    private static readonly Gpt2Config Config = new(NLayer: 2, NHead: 4, DModel: 64, DMlp: 256, VocabSize: 200, NPositions: 32, LayerNormEpsilon: 1e-5f);
    private const int Batch = 4, SeqLen = 20;

    /// <summary>The largest difference, relative to 1 + |CPU value|, over logits and captures of both weight forms.</summary>
    public static double Compare()
    {
        var raw = RandomGpt2.Create(Config, seed: 11);
        var random = new DeterministicRandom(12);
        var tokens = new TokenBatch([.. Enumerable.Range(0, Batch * SeqLen).Select(_ => random.Next(Config.VocabSize))], Batch, SeqLen);
        int[] logitPositions = [.. Enumerable.Range(0, Batch).SelectMany(b => new[] { SeqLen - 1, b + 2 })];
        var patchValues = Enumerable.Range(0, Batch * Config.DHead).Select(_ => (float)random.NextGaussian()).ToArray();
        var patternValues = Enumerable.Range(0, Batch * SeqLen).Select(_ => (float)random.NextDouble() / 4).ToArray();

        double worst = 0;
        foreach (var weights in new[] { raw, WeightProcessing.Process(raw) })
        {
            using var gpu = new CudaGpt2Model(weights);
            var (cpuValues, gpuValues) = (Run(new Gpt2Model(weights)), Run(gpu));
            for (int i = 0; i < cpuValues.Count; i++) worst = Math.Max(worst, Math.Abs(cpuValues[i] - gpuValues[i]) / (1 + Math.Abs(cpuValues[i])));
        }
        return worst;

        List<float> Run(ITransformer model)
        {
            var hooks = new HookSet();
            hooks.Patch(new HeadHook(HookPoint.Q, 0, 1), [.. Enumerable.Range(0, Batch).Select(b => 5 + b)], patchValues);
            hooks.Patch(new HeadHook(HookPoint.Pattern, 1, 2), [.. Enumerable.Repeat(SeqLen - 1, Batch)], patternValues);
            var captures = HeadHook.Every(Config).Select(hook =>
                hooks.Capture(hook, [.. Enumerable.Range(0, Batch).Select(b => (3 * b + hook.Head + 1) % SeqLen)])).ToList();
            var entering = hooks.CaptureResidual(1);
            var logits = model.Forward(tokens, logitPositions, hooks);
            var started = new HookSet();
            started.StartAt(1, entering.Values);
            started.Patch(new HeadHook(HookPoint.Pattern, 1, 2), [.. Enumerable.Repeat(SeqLen - 1, Batch)], patternValues);
            var startedLogits = model.Forward(tokens, logitPositions, started);
            return [.. logits.Span.ToArray(), .. entering.Values, .. startedLogits.Span.ToArray(), .. captures.SelectMany(c => c.Values)];
        }
    }
}
