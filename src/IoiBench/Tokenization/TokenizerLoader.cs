namespace IoiBench.Tokenization;

/// <summary>Loads a model directory's tokenizer: byte-level BPE when <c>merges.txt</c> is present, word-level otherwise.</summary>
public static class TokenizerLoader
{
    public static ITokenizer Load(string modelDirectory)
    {
        string vocab = Path.Combine(modelDirectory, "vocab.json");
        string merges = Path.Combine(modelDirectory, "merges.txt");
        if (!File.Exists(vocab)) throw new InvalidInputException($"{vocab}: file not found (a model directory needs vocab.json).");
        return File.Exists(merges) ? new ByteLevelBpeTokenizer(vocab, merges) : new WordLevelTokenizer(vocab);
    }
}
