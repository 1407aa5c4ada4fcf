using System.Text.Json.Nodes;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Top-k options: <c>relu</c>, <c>encoder_bias</c>, <c>normalize_decoder</c> and <c>init</c> (tied: unit-norm decoder
/// rows with the encoder their transpose; reference: a Kaiming-uniform encoder with the decoder its transpose), and the
/// AuxK term's <c>aux_k</c> (0: none) and <c>aux_k_coefficient</c>. The reference's variant: no ReLU, no encoder bias,
/// a free decoder, its init, no AuxK.
/// </summary>
public sealed record TopKOptions(bool Relu = true, bool EncoderBias = true, bool NormaliseDecoder = true, bool ReferenceInit = false,
    int AuxK = 0, float AuxKCoefficient = 1f / 32) : VariantOptions;

/// <summary>The top-k SAE's registry entry (Gao et al. 2024): k as "k", SAELens "topk" files, AuxK for dead latents.</summary>
public sealed class TopKVariant : SaeVariant
{
    public static readonly TopKVariant Instance = new();

    public override string Name => "topk";
    public override string Summary => "keeps each input's k largest pre-activations; no sparsity penalty, optionally AuxK for dead latents";
    public override string SparsityKey => "k";
    public override bool IntegerSparsity => true;
    public override IReadOnlyList<string> OptionKeys => ["relu", "encoder_bias", "normalize_decoder", "init", "aux_k", "aux_k_coefficient"];
    public override VariantOptions DefaultOptions { get; } = new TopKOptions();

    public override VariantOptions ParseOptions(VariantSettings settings) => new TopKOptions(
        Relu: settings.Flag("relu", true), EncoderBias: settings.Flag("encoder_bias", true), NormaliseDecoder: settings.Flag("normalize_decoder", true),
        ReferenceInit: settings.Choice("init", "tied", "tied", "reference") == "reference",
        AuxK: settings.Integer("aux_k", 0, minimum: 0, maximum: settings.Width), AuxKCoefficient: settings.Positive("aux_k_coefficient", 1f / 32));

    public override SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng)
    {
        var o = (TopKOptions)options;
        return new TopKSae(dIn, width, (int)sparsity, rng, o.Relu, o.EncoderBias, o.ReferenceInit)
            { NormaliseDecoder = o.NormaliseDecoder, AuxK = o.AuxK, AuxKCoefficient = o.AuxKCoefficient };
    }

    public override string Architecture => "topk";

    public override void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench)
    {
        var t = (TopKSae)sae;
        cfg["activation_fn_str"] = "topk";
        cfg["activation_fn_kwargs"] = new JsonObject { ["k"] = t.K };
        cfg["k"] = t.K;   // SAELens 6's field
        cfg["rescale_acts_by_decoder_norm"] = false;
        ioibench["relu"] = t.Relu;
        ioibench["encoder_bias"] = t.EncoderBias;
        ioibench["normalize_decoder"] = t.NormaliseDecoder;
        ioibench["aux_k"] = t.AuxK;
        ioibench["aux_k_coefficient"] = t.AuxKCoefficient;
    }

    /// <summary>SAELens's top-k always has b_enc: without one, the file holds zeros.</summary>
    public override IReadOnlyDictionary<string, Tensor> FileTensors(SparseAutoencoder sae)
    {
        var tensors = base.FileTensors(sae).ToDictionary(p => p.Key, p => p.Value);
        tensors.TryAdd("b_enc", new Tensor(sae.DSae));
        return tensors;
    }

    public override SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae) =>
        new TopKSae(dIn, dSae, cfg.Json["k"] is { } k ? cfg.PositiveInteger(k, "k")
                : cfg.PositiveInteger(cfg.Json["activation_fn_kwargs"]?["k"], "activation_fn_kwargs.k"), new DeterministicRandom(0),
            cfg.Option("relu", true), cfg.Option("encoder_bias", true))
        {
            NormaliseDecoder = cfg.Option("normalize_decoder", true), AuxK = cfg.Option("aux_k", 0), AuxKCoefficient = cfg.Option("aux_k_coefficient", 1f / 32),
        };

    public override string KernelFile => "topk.cu";

    internal override BatchedStep CreateGpuStep(BatchedSaeTrainer trainer) => new TopKStep(trainer);

    private static readonly TopKOptions ReferenceForm = new(Relu: false, EncoderBias: false, NormaliseDecoder: false, ReferenceInit: true);

    public override IReadOnlyList<DeviceCheckCase> DeviceChecks { get; } =
    [
        new("topk-ref", [new("topk", 3, ReferenceForm), new("topk", 8, ReferenceForm)]),
        new("topk", [new("topk", 4)]),
        new("topk-auxk", [new("topk", 4, new TopKOptions(AuxK: 8)), new("topk", 2, new TopKOptions(AuxK: 8))]),
        new("topk-wide", [new("topk", 16, new TopKOptions(AuxK: 32))], Width: 2048),
    ];
}
