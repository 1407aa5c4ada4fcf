using IoiBench.Tokenization;

namespace IoiBench.Model;

/// <summary>A loaded Hugging Face GPT-2 directory: the model and its tokenizer.</summary>
public sealed record LoadedModel(string Directory, Gpt2Model Model, ITokenizer Tokenizer)
{
    private readonly Lazy<string> _contentHash = new(() => ModelDirectory.ContentHash(Directory));

    /// <summary>The directory's <see cref="ModelDirectory.ContentHash"/>, computed once.</summary>
    public string ContentHash => _contentHash.Value;
}

/// <summary>
/// Loads a model directory (<c>config.json</c>, <c>model.safetensors</c>, <c>vocab.json</c> and, for byte-level
/// BPE, <c>merges.txt</c>), in a given basis.
/// </summary>
public static class ModelDirectory
{
    public static LoadedModel Load(string directory, ModelBasis basis)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new InvalidInputException($"{directory}: model directory not found.");
        var config = Gpt2Config.Load(Path.Combine(directory, "config.json"));
        var tokenizer = TokenizerLoader.Load(directory);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidInputException($"{Path.Combine(directory, "vocab.json")}: {tokenizer.VocabSize} tokens but config.json's vocab_size is {config.VocabSize}.");
        var weights = Gpt2Weights.Load(Path.Combine(directory, "model.safetensors"), config);
        if (basis != ModelBasis.Raw) weights = WeightProcessing.Process(weights, basis);
        return new LoadedModel(directory, new Gpt2Model(weights), tokenizer);
    }

    /// <summary>SHA-256 of config.json, model.safetensors and vocab.json: what the model's activations depend on.</summary>
    public static string ContentHash(string directory)
    {
        using var sha = System.Security.Cryptography.SHA256.Create();
        foreach (string file in new[] { "config.json", "model.safetensors", "vocab.json" })
        {
            using var stream = File.OpenRead(Path.Combine(directory, file));
            var buffer = new byte[1 << 20];
            int read;
            while ((read = stream.Read(buffer)) > 0) sha.TransformBlock(buffer, 0, read, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexStringLower(sha.Hash!);
    }
}
