using IoiBench.Model;
using IoiBench.Tokenization;

namespace IoiBench.Cli.Commands;

/// <summary>Tokenises prompts (BOS first) and runs them through the model in batches of equal length.</summary>
internal static class PromptBatches
{
    private const int MaxBatch = 64;

    /// <summary>
    /// Calls <paramref name="run"/> once per batch with the prompts' indices and their token batch;
    /// prompts of one length share a batch, results come back in input order.
    /// </summary>
    public static List<T> Run<T>(LoadedModel model, IReadOnlyList<string> prompts, Func<int[], TokenBatch, IReadOnlyList<T>> run)
    {
        var encoded = prompts.Select(model.Tokenizer.EncodeWithBos).ToArray();
        for (int i = 0; i < encoded.Length; i++)
            if (encoded[i].Length > model.Model.Config.NPositions)
                throw new InvalidInputException($"prompt {i} has {encoded[i].Length} tokens (with BOS); the model takes at most {model.Model.Config.NPositions}.");
        var results = new T[prompts.Count];
        foreach (var group in Enumerable.Range(0, encoded.Length).GroupBy(i => encoded[i].Length))
            foreach (var chunk in group.Chunk(MaxBatch))
            {
                var batchResults = run(chunk, TokenBatch.FromSequences(chunk.Select(i => encoded[i]).ToList()));
                for (int j = 0; j < chunk.Length; j++) results[chunk[j]] = batchResults[j];
            }
        return results.ToList();
    }
}
