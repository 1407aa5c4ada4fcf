using IoiBench.Model;
using IoiBench.Prompts;

namespace IoiBench.Behaviour;

/// <summary>
/// Every head's mean z (its output before W_O) at every token position, over a reference prompt set. Prompts of one
/// template share a length and their positions line up, so means are kept per sequence length.
/// </summary>
public sealed class MeanHeadOutputs
{
    private readonly Gpt2Config _config;
    private readonly Dictionary<int, float[]> _means; // sequence length → [position, layer, head, dHead]

    private MeanHeadOutputs(Gpt2Config config, Dictionary<int, float[]> means)
    {
        _config = config;
        _means = means;
    }

    public static MeanHeadOutputs Compute(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts, IProgress<ProgressUpdate>? progress = null)
    {
        var cfg = model.Config;
        var sums = new Dictionary<int, double[]>();
        var counts = new Dictionary<int, int>();
        int done = 0;
        foreach (var batch in PromptRunner.Batches(prompts))
        {
            int seqLen = batch.Tokens.SeqLen;
            var hooks = new HookSet();
            var captures = new ActivationCapture[seqLen, cfg.NLayer, cfg.NHead];
            for (int pos = 0; pos < seqLen; pos++)
                for (int l = 0; l < cfg.NLayer; l++)
                    for (int h = 0; h < cfg.NHead; h++)
                        captures[pos, l, h] = hooks.Capture(new HeadHook(HookPoint.Z, l, h), Enumerable.Repeat(pos, batch.Tokens.Batch).ToArray());
            model.Forward(batch.Tokens, logitPositions: [], hooks); // captures only, no logits

            if (!sums.TryGetValue(seqLen, out var sum)) sums[seqLen] = sum = new double[seqLen * cfg.NLayer * cfg.NHead * cfg.DHead];
            counts[seqLen] = counts.GetValueOrDefault(seqLen) + batch.Tokens.Batch;
            for (int pos = 0; pos < seqLen; pos++)
                for (int l = 0; l < cfg.NLayer; l++)
                    for (int h = 0; h < cfg.NHead; h++)
                    {
                        int offset = ((pos * cfg.NLayer + l) * cfg.NHead + h) * cfg.DHead;
                        var values = captures[pos, l, h].Values;
                        for (int b = 0; b < batch.Tokens.Batch; b++)
                            for (int c = 0; c < cfg.DHead; c++) sum[offset + c] += values[b * cfg.DHead + c];
                    }
            done += batch.Tokens.Batch;
            progress?.Report(new ProgressUpdate("mean head outputs", done, prompts.Count));
        }
        return new MeanHeadOutputs(cfg, sums.ToDictionary(p => p.Key, p => p.Value.Select(x => (float)(x / counts[p.Key])).ToArray()));
    }

    public ReadOnlySpan<float> Mean(int seqLen, int position, HeadRef head)
    {
        if (!_means.TryGetValue(seqLen, out var means))
            throw new InvalidOperationException($"No reference prompts of {seqLen} tokens to take means over.");
        return means.AsSpan(((position * _config.NLayer + head.Layer) * _config.NHead + head.Head) * _config.DHead, _config.DHead);
    }
}

/// <summary>
/// Replaces the outputs (z) of some heads with their reference means: at every position, or only at one semantic
/// position of each prompt.
/// </summary>
public sealed record HeadAblation(IReadOnlyList<HeadRef> Heads, SemanticPosition? Position = null)
{
    public HookSet Hooks(PromptRunner.Batch batch, MeanHeadOutputs means, Gpt2Config config)
    {
        var hooks = new HookSet();
        int seqLen = batch.Tokens.SeqLen, count = batch.Prompts.Count;
        foreach (var head in Heads)
        {
            if (head.Layer >= config.NLayer || head.Head >= config.NHead)
                throw new InvalidInputException($"head {head} is outside the model ({config.NLayer} layers × {config.NHead} heads).");
            var positionsToAblate = Position is { } p
                ? [batch.Prompts.Select(prompt => prompt.Positions[p]).ToArray()]
                : Enumerable.Range(0, seqLen).Select(pos => Enumerable.Repeat(pos, count).ToArray()).ToList();
            foreach (int[] positions in positionsToAblate)
            {
                var values = new float[count * config.DHead];
                for (int b = 0; b < count; b++) means.Mean(seqLen, positions[b], head).CopyTo(values.AsSpan(b * config.DHead, config.DHead));
                hooks.Patch(new HeadHook(HookPoint.Z, head.Layer, head.Head), positions, values);
            }
        }
        return hooks;
    }
}
