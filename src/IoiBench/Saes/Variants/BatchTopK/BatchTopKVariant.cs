using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>BatchTopK options: the AuxK term's <c>aux_k</c> (0: none) and <c>aux_k_coefficient</c>, as top-k's.</summary>
public sealed record BatchTopKOptions(int AuxK = 0, float AuxKCoefficient = 1f / 32) : VariantOptions;

/// <summary>
/// The BatchTopK SAE's registry entry (Bussmann et al. 2024): k as "k", AuxK for dead latents, and files as SAELens
/// writes BatchTopK SAEs: architecture "jumprelu" with the estimated threshold.
/// </summary>
public sealed class BatchTopKVariant : SaeVariant
{
    public static readonly BatchTopKVariant Instance = new();

    public override string Name => "batchtopk";
    public override string Summary => "keeps the k·B largest activations of a batch of B, k per input on average; a threshold at inference";
    public override string SparsityKey => "k";
    public override bool IntegerSparsity => true;
    public override IReadOnlyList<string> OptionKeys => ["aux_k", "aux_k_coefficient"];
    public override VariantOptions DefaultOptions { get; } = new BatchTopKOptions();

    public override VariantOptions ParseOptions(VariantSettings settings) => new BatchTopKOptions(
        settings.Integer("aux_k", 0, minimum: 0, maximum: settings.Width), settings.Positive("aux_k_coefficient", 1f / 32));

    public override SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng)
    {
        var o = (BatchTopKOptions)options;
        return new BatchTopKSae(this, dIn, width, (int)sparsity, rng, auxK: o.AuxK, auxKCoefficient: o.AuxKCoefficient);
    }

    public override string Architecture => "jumprelu";

    public override void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench) => WriteBatchTopK((BatchTopKSae)sae, ioibench);

    /// <summary>The fields BatchTopK and Matryoshka share: k and AuxK's settings.</summary>
    internal static void WriteBatchTopK(BatchTopKSae sae, JsonObject ioibench)
    {
        ioibench["k"] = sae.K;
        ioibench["aux_k"] = sae.AuxK;
        ioibench["aux_k_coefficient"] = sae.AuxKCoefficient;
    }

    public override SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae) =>
        new BatchTopKSae(this, dIn, dSae, cfg.PositiveInteger(cfg.Json["ioibench"]?["k"], "ioibench.k"), new DeterministicRandom(0),
            auxK: cfg.Option("aux_k", 0), auxKCoefficient: cfg.Option("aux_k_coefficient", 1f / 32));

    public override string KernelFile => "batchtopk.cu";

    /// <summary>AuxK's kernels are top-k's.</summary>
    public override IReadOnlyList<string> KernelFiles => ["topk.cu", KernelFile];

    internal override BatchedStep CreateGpuStep(BatchedSaeTrainer trainer) => new BatchTopKStep(trainer);

    public override IReadOnlyList<DeviceCheckCase> DeviceChecks { get; } =
    [
        new("batchtopk", [new("batchtopk", 4), new("batchtopk", 8)]),
        new("batchtopk-auxk", [new("batchtopk", 5, new BatchTopKOptions(AuxK: 8))]),
    ];
}
