using IoiBench.Tokenization;

namespace IoiBench.Model;

/// <summary>A loaded Hugging Face GPT-2 directory: the model and its tokenizer.</summary>
public sealed record LoadedModel(string Directory, Gpt2Model Model, ITokenizer Tokenizer);

/// <summary>
/// Loads a model directory (<c>config.json</c>, <c>model.safetensors</c>, <c>vocab.json</c> and, for byte-level
/// BPE, <c>merges.txt</c>), optionally in TransformerLens's processed basis.
/// </summary>
public static class ModelDirectory
{
    public static LoadedModel Load(string directory, bool processed)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new InvalidInputException($"{directory}: model directory not found.");
        var config = Gpt2Config.Load(Path.Combine(directory, "config.json"));
        var tokenizer = TokenizerLoader.Load(directory);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new InvalidInputException($"{Path.Combine(directory, "vocab.json")}: {tokenizer.VocabSize} tokens but config.json's vocab_size is {config.VocabSize}.");
        var weights = Gpt2Weights.Load(Path.Combine(directory, "model.safetensors"), config);
        if (processed) weights = WeightProcessing.Process(weights);
        return new LoadedModel(directory, new Gpt2Model(weights), tokenizer);
    }
}
