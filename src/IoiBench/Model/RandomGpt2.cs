using IoiBench.Numerics;

namespace IoiBench.Model;

/// <summary>
/// A GPT-2 with Gaussian weights of a given shape (embeddings N(0, 0.5²), projections N(0, 0.1²) or smaller, LayerNorm
/// scales near 1, a tied unembedding): for checks and timings that need a model of some shape but no trained one.
/// </summary>
public static class RandomGpt2
{
    /// <summary>GPT-2 small's shape: 12 layers × 12 heads, d_model 768, MLP 3072, 50,257 tokens, 1,024 positions.</summary>
    public static readonly Gpt2Config SmallShape = new(NLayer: 12, NHead: 12, DModel: 768, DMlp: 3072, VocabSize: 50257, NPositions: 1024, LayerNormEpsilon: 1e-5f);

    /// <summary>
    /// A model directory of random weights with GPT-2's vocabulary (<see cref="Tokenization.Gpt2Vocabulary"/>), which
    /// every command can run like a real checkpoint: for timings and load tests at GPT-2's size without its weights.
    /// </summary>
    public static void WriteDirectory(string directory, Gpt2Config config, ulong seed)
    {
        if (config.VocabSize != SmallShape.VocabSize)
            throw new ArgumentException($"GPT-2's vocabulary has {SmallShape.VocabSize} tokens, not {config.VocabSize}.");
        Directory.CreateDirectory(directory);
        Tokenization.Gpt2Vocabulary.Write(directory);
        Create(config, seed).Save(Path.Combine(directory, "model.safetensors"));
        IO.AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson());
    }

    public static Gpt2Weights Create(Gpt2Config config, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        int d = config.DModel, m = config.DMlp;
        Tensor Gaussian(float scale, float offset, params int[] shape)
        {
            var tensor = new Tensor(shape);
            var values = tensor.Span;
            for (int i = 0; i < values.Length; i++) values[i] = offset + scale * (float)random.NextGaussian();
            return tensor;
        }
        LayerNormParams LayerNorm() => new(Gaussian(0.1f, 1, d), Gaussian(0.1f, 0, d));
        var tokenEmbedding = Gaussian(0.5f, 0, config.VocabSize, d);
        return new Gpt2Weights
        {
            Config = config,
            TokenEmbedding = tokenEmbedding,
            PositionEmbedding = Gaussian(0.1f, 0, config.NPositions, d),
            Blocks =
            [
                .. Enumerable.Range(0, config.NLayer).Select(_ => new Gpt2Block
                {
                    Ln1 = LayerNorm(), AttnWeight = Gaussian(0.2f, 0, d, 3 * d), AttnBias = Gaussian(0.1f, 0, 3 * d),
                    AttnOutWeight = Gaussian(0.1f, 0, d, d), AttnOutBias = Gaussian(0.1f, 0, d), Ln2 = LayerNorm(),
                    MlpInWeight = Gaussian(0.1f, 0, d, m), MlpInBias = Gaussian(0.1f, 0, m),
                    MlpOutWeight = Gaussian(0.05f, 0, m, d), MlpOutBias = Gaussian(0.1f, 0, d),
                }),
            ],
            LnFinal = LayerNorm(),
            Unembedding = tokenEmbedding,
        };
    }
}
