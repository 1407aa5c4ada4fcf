using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;

namespace IoiBench.Behaviour;

/// <summary>
/// Runs tokenized prompts through a model in batches of equal length (prompts of one template share a length),
/// letting the caller add hooks per batch and read the last-position logits.
/// </summary>
public static class PromptRunner
{
    public const int DefaultBatchSize = 64;

    /// <summary>One batch: the indices of its prompts in the input list, and the prompts themselves.</summary>
    public sealed record Batch(int[] Indices, IReadOnlyList<TokenizedPrompt> Prompts, TokenBatch Tokens);

    public static IEnumerable<Batch> Batches(IReadOnlyList<TokenizedPrompt> prompts, int batchSize = DefaultBatchSize)
    {
        foreach (var group in Enumerable.Range(0, prompts.Count).GroupBy(i => prompts[i].Ids.Length))
            foreach (var chunk in group.Chunk(batchSize))
            {
                var members = chunk.Select(i => prompts[i]).ToList();
                yield return new Batch(chunk, members, TokenBatch.FromSequences(members.Select(p => p.Ids).ToList()));
            }
    }

    /// <summary>
    /// The IOI score of every prompt (in input order); <paramref name="hooksFor"/> may add patches or captures per batch.
    /// </summary>
    public static IoiScore[] Score(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts, Func<Batch, HookSet?>? hooksFor = null,
        IProgress<ProgressUpdate>? progress = null, string stage = "forward")
    {
        var scores = new IoiScore[prompts.Count];
        Run(model, prompts, hooksFor, (batch, logits) => RecordScores(scores, batch, logits), progress, stage);
        return scores;
    }

    /// <summary>Scores a batch's last-position logits into <paramref name="scores"/> (indexed like the input prompts).</summary>
    public static void RecordScores(IoiScore[] scores, Batch batch, Tensor logits)
    {
        for (int b = 0; b < batch.Indices.Length; b++)
            scores[batch.Indices[b]] = IoiScore.FromLogits(logits.Row(b), batch.Prompts[b].IoToken, batch.Prompts[b].SToken);
    }

    /// <summary>
    /// Runs every batch and hands its last-position logits [batch, vocab] (row b belongs to prompt
    /// <c>batch.Indices[b]</c>) to <paramref name="onLogits"/>, for readers that need the whole next-token distribution.
    /// </summary>
    public static void Run(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts, Func<Batch, HookSet?>? hooksFor, Action<Batch, Tensor> onLogits,
        IProgress<ProgressUpdate>? progress = null, string stage = "forward")
    {
        int done = 0;
        foreach (var batch in Batches(prompts))
        {
            var hooks = hooksFor?.Invoke(batch);
            onLogits(batch, model.Forward(batch.Tokens, batch.Prompts.Select(p => p.Positions.End).ToArray(), hooks));
            done += batch.Indices.Length;
            progress?.Report(new ProgressUpdate(stage, done, prompts.Count));
        }
    }
}
