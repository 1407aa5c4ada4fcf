using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Model;

/// <summary>LayerNorm scale and shift; a folded LayerNorm has none and only normalises.</summary>
public sealed record LayerNormParams(Tensor Weight, Tensor Bias);

/// <summary>
/// One transformer block in Hugging Face's Conv1D layout (y = x·W + b, W stored [in, out]).
/// <see cref="AttnWeight"/>'s columns are Q | K | V, each head-major (head h owns columns h·dHead…);
/// <see cref="AttnOutWeight"/>'s rows are head-major likewise (rows h·dHead… are head h's W_O).
/// </summary>
public sealed class Gpt2Block
{
    public required LayerNormParams? Ln1 { get; set; }
    public required Tensor AttnWeight { get; init; }      // [d, 3d]
    public required Tensor AttnBias { get; init; }        // [3d]
    public required Tensor AttnOutWeight { get; init; }   // [d, d]
    public required Tensor AttnOutBias { get; init; }     // [d]
    public required LayerNormParams? Ln2 { get; set; }
    public required Tensor MlpInWeight { get; init; }     // [d, dMlp]
    public required Tensor MlpInBias { get; init; }       // [dMlp]
    public required Tensor MlpOutWeight { get; init; }    // [dMlp, d]
    public required Tensor MlpOutBias { get; init; }      // [d]

    public Gpt2Block DeepClone() => new()
    {
        Ln1 = Ln1 is null ? null : new(Ln1.Weight.Clone(), Ln1.Bias.Clone()),
        AttnWeight = AttnWeight.Clone(), AttnBias = AttnBias.Clone(),
        AttnOutWeight = AttnOutWeight.Clone(), AttnOutBias = AttnOutBias.Clone(),
        Ln2 = Ln2 is null ? null : new(Ln2.Weight.Clone(), Ln2.Bias.Clone()),
        MlpInWeight = MlpInWeight.Clone(), MlpInBias = MlpInBias.Clone(),
        MlpOutWeight = MlpOutWeight.Clone(), MlpOutBias = MlpOutBias.Clone(),
    };
}

/// <summary>All parameters of a GPT-2 model. The unembedding is stored [vocab, d] (tied to the token embedding on load).</summary>
public sealed class Gpt2Weights
{
    public required Gpt2Config Config { get; init; }
    public required Tensor TokenEmbedding { get; init; }     // [vocab, d]
    public required Tensor PositionEmbedding { get; init; }  // [positions, d]
    public required Gpt2Block[] Blocks { get; init; }
    public required LayerNormParams? LnFinal { get; set; }
    public required Tensor Unembedding { get; set; }         // [vocab, d]
    public Tensor? UnembeddingBias { get; set; }             // [vocab]; only after processing
    /// <summary>The coordinates the weights are in: <see cref="ModelBasis.Raw"/> as loaded, else as processed.</summary>
    public ModelBasis Basis { get; init; }

    /// <summary>
    /// Loads a Hugging Face GPT-2 <c>model.safetensors</c>: keys with or without the <c>transformer.</c> prefix,
    /// mask buffers (<c>attn.bias</c>, <c>attn.masked_bias</c>) ignored, <c>lm_head.weight</c> used if present else tied.
    /// </summary>
    public static Gpt2Weights Load(string path, Gpt2Config config)
    {
        using var file = SafeTensorsFile.Open(path);
        string prefix = file.Contains("transformer.wte.weight") ? "transformer." : file.Contains("wte.weight") ? "" :
            throw new InvalidInputException($"{path}: no tensor 'wte.weight' or 'transformer.wte.weight'; is this a GPT-2 checkpoint?");
        int d = config.DModel, m = config.DMlp;

        Tensor Read(string name, params int[] shape)
        {
            var tensor = file.ReadFloat32(prefix + name);
            if (!tensor.Shape.SequenceEqual(shape))
                throw new InvalidInputException($"{path}: tensor '{prefix + name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}] from config.json.");
            return tensor;
        }

        var tokenEmbedding = Read("wte.weight", config.VocabSize, d);
        var blocks = new Gpt2Block[config.NLayer];
        for (int l = 0; l < config.NLayer; l++)
        {
            string p = $"h.{l}.";
            blocks[l] = new Gpt2Block
            {
                Ln1 = new(Read(p + "ln_1.weight", d), Read(p + "ln_1.bias", d)),
                AttnWeight = Read(p + "attn.c_attn.weight", d, 3 * d),
                AttnBias = Read(p + "attn.c_attn.bias", 3 * d),
                AttnOutWeight = Read(p + "attn.c_proj.weight", d, d),
                AttnOutBias = Read(p + "attn.c_proj.bias", d),
                Ln2 = new(Read(p + "ln_2.weight", d), Read(p + "ln_2.bias", d)),
                MlpInWeight = Read(p + "mlp.c_fc.weight", d, m),
                MlpInBias = Read(p + "mlp.c_fc.bias", m),
                MlpOutWeight = Read(p + "mlp.c_proj.weight", m, d),
                MlpOutBias = Read(p + "mlp.c_proj.bias", d),
            };
        }

        Tensor unembedding = tokenEmbedding;
        if (file.Contains("lm_head.weight"))
        {
            unembedding = file.ReadFloat32("lm_head.weight");
            if (!unembedding.Shape.SequenceEqual([config.VocabSize, d]))
                throw new InvalidInputException($"{path}: tensor 'lm_head.weight' has shape [{string.Join(", ", unembedding.Shape)}], expected [{config.VocabSize}, {d}].");
        }

        return new Gpt2Weights
        {
            Config = config,
            TokenEmbedding = tokenEmbedding,
            PositionEmbedding = Read("wpe.weight", config.NPositions, d),
            Blocks = blocks,
            LnFinal = new(Read("ln_f.weight", d), Read("ln_f.bias", d)),
            Unembedding = unembedding,
        };
    }

    /// <summary>
    /// Writes raw weights as a Hugging Face GPT-2 <c>model.safetensors</c> (keys without the <c>transformer.</c> prefix,
    /// Conv1D layout, the unembedding tied to the token embedding), which <see cref="Load"/> reads back exactly.
    /// </summary>
    public void Save(string path)
    {
        if (Basis != ModelBasis.Raw) throw new InvalidOperationException("Only raw weights have a Hugging Face layout.");
        if (!ReferenceEquals(Unembedding, TokenEmbedding)) throw new InvalidOperationException("Only a tied unembedding is written.");
        var tensors = new Dictionary<string, Tensor> { ["wte.weight"] = TokenEmbedding, ["wpe.weight"] = PositionEmbedding };
        for (int l = 0; l < Blocks.Length; l++)
        {
            var b = Blocks[l];
            string p = $"h.{l}.";
            tensors[p + "ln_1.weight"] = b.Ln1!.Weight; tensors[p + "ln_1.bias"] = b.Ln1.Bias;
            tensors[p + "attn.c_attn.weight"] = b.AttnWeight; tensors[p + "attn.c_attn.bias"] = b.AttnBias;
            tensors[p + "attn.c_proj.weight"] = b.AttnOutWeight; tensors[p + "attn.c_proj.bias"] = b.AttnOutBias;
            tensors[p + "ln_2.weight"] = b.Ln2!.Weight; tensors[p + "ln_2.bias"] = b.Ln2.Bias;
            tensors[p + "mlp.c_fc.weight"] = b.MlpInWeight; tensors[p + "mlp.c_fc.bias"] = b.MlpInBias;
            tensors[p + "mlp.c_proj.weight"] = b.MlpOutWeight; tensors[p + "mlp.c_proj.bias"] = b.MlpOutBias;
        }
        tensors["ln_f.weight"] = LnFinal!.Weight;
        tensors["ln_f.bias"] = LnFinal.Bias;
        SafeTensorsWriter.Write(path, tensors);
    }

    /// <summary>A copy that shares no buffer with this one (the unembedding is untied).</summary>
    public Gpt2Weights DeepClone(ModelBasis basis) => new()
    {
        Config = Config,
        TokenEmbedding = TokenEmbedding.Clone(),
        PositionEmbedding = PositionEmbedding.Clone(),
        Blocks = Blocks.Select(b => b.DeepClone()).ToArray(),
        LnFinal = LnFinal is null ? null : new(LnFinal.Weight.Clone(), LnFinal.Bias.Clone()),
        Unembedding = Unembedding.Clone(),
        UnembeddingBias = UnembeddingBias?.Clone(),
        Basis = basis,
    };
}
