using IoiBench.Model;
using IoiBench.Tokenization;

namespace IoiBench.Cli.Commands;

/// <summary>Tokenises the inspection commands' prompts and runs them through the model in batches of equal length.</summary>
internal static class PromptBatches
{
    private const int MaxBatch = 64;

    /// <summary>A text's model input: BOS first when <paramref name="prependBos"/> (TransformerLens's default).</summary>
    public static int[] Encode(ITokenizer tokenizer, string text, bool prependBos) =>
        prependBos ? tokenizer.EncodeWithBos(text) : tokenizer.Encode(text);

    /// <summary>
    /// Calls <paramref name="run"/> once per batch with the prompts' indices and their token batch;
    /// prompts of one length share a batch, results come back in input order.
    /// </summary>
    public static List<T> Run<T>(ITokenizer tokenizer, ITransformer model, IReadOnlyList<string> prompts, bool prependBos,
        Func<int[], TokenBatch, IReadOnlyList<T>> run)
    {
        var encoded = prompts.Select(p => Encode(tokenizer, p, prependBos)).ToArray();
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i].Length == 0) throw new InvalidInputException($"prompt {i} has no tokens (give a text, or --prepend-bos true).");
            if (encoded[i].Length > model.Config.NPositions)
                throw new InvalidInputException($"prompt {i} has {encoded[i].Length} tokens{(prependBos ? " (with BOS)" : "")}; the model takes at most {model.Config.NPositions}.");
        }
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
