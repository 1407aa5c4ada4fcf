using System.Text;
using System.Text.Json.Nodes;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Matryoshka options: <c>matryoshka_widths</c>, the inner levels' widths (strictly increasing, below the SAE's width,
/// which is always the last level; null: width/16 and width/4), and AuxK's <c>aux_k</c> and <c>aux_k_coefficient</c>.
/// </summary>
public sealed record MatryoshkaOptions(IReadOnlyList<int>? Widths = null, int AuxK = 0, float AuxKCoefficient = 1f / 32) : VariantOptions
{
    /// <summary>Every level's width for an SAE of <paramref name="width"/> latents, the last being the width itself.</summary>
    public IReadOnlyList<int> Levels(int width) =>
        [.. (Widths ?? [width / 16, width / 4]).Where(w => w >= 1 && w < width).Distinct().Order(), width];

    // Equal when the widths are, not the lists: runs with equal options train together and share a fingerprint.
    public bool Equals(MatryoshkaOptions? other) => other is not null && AuxK == other.AuxK && AuxKCoefficient == other.AuxKCoefficient
        && (Widths ?? []).SequenceEqual(other.Widths ?? []) && (Widths is null) == (other.Widths is null);

    public override int GetHashCode() => HashCode.Combine(AuxK, AuxKCoefficient, Widths is null ? "" : string.Join(",", Widths));

    protected override bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Widths = {(Widths is null ? "default" : string.Join(",", Widths))}, AuxK = {AuxK}, AuxKCoefficient = {AuxKCoefficient}");
        return true;
    }
}

/// <summary>
/// The Matryoshka BatchTopK SAE's registry entry: a <see cref="BatchTopKSae"/> with nested levels, each reconstructing
/// on its own, summed losses; k as "k"; files as SAELens writes them (architecture "jumprelu" with the threshold).
/// </summary>
public sealed class MatryoshkaVariant : SaeVariant
{
    public static readonly MatryoshkaVariant Instance = new();

    public override string Name => "matryoshka";
    public override string Summary => "BatchTopK whose nested prefixes of latents each reconstruct the input, their losses summed";
    public override string SparsityKey => "k";
    public override bool IntegerSparsity => true;
    public override IReadOnlyList<string> OptionKeys => ["matryoshka_widths", "aux_k", "aux_k_coefficient"];
    public override VariantOptions DefaultOptions { get; } = new MatryoshkaOptions();

    public override VariantOptions ParseOptions(VariantSettings settings) => new MatryoshkaOptions(
        settings.Integers("matryoshka_widths", (w, before) =>
            w < 1 || w >= settings.Width ? $"each width must be from 1 to {settings.Width - 1} (the last level is the SAE's width, {settings.Width})."
            : before.Count > 0 && w <= before[^1] ? "the widths must increase." : null),
        settings.Integer("aux_k", 0, minimum: 0, maximum: settings.Width), settings.Positive("aux_k_coefficient", 1f / 32));

    public override SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng)
    {
        var o = (MatryoshkaOptions)options;
        return new BatchTopKSae(this, dIn, width, (int)sparsity, rng, o.Levels(width), o.AuxK, o.AuxKCoefficient);
    }

    public override string Architecture => "jumprelu";

    public override void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench)
    {
        var b = (BatchTopKSae)sae;
        BatchTopKVariant.WriteBatchTopK(b, ioibench);
        ioibench["matryoshka_widths"] = new JsonArray([.. b.Levels.Select(w => (JsonNode)w)]);
    }

    public override SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae)
    {
        int[] levels = cfg.Json["ioibench"]?["matryoshka_widths"] is JsonArray widths ? [.. widths.Select(w => w!.GetValue<int>())] : [dSae];
        return new BatchTopKSae(this, dIn, dSae, cfg.PositiveInteger(cfg.Json["ioibench"]?["k"], "ioibench.k"), new DeterministicRandom(0), levels,
            cfg.Option("aux_k", 0), cfg.Option("aux_k_coefficient", 1f / 32));
    }

    /// <summary>Its GPU step and kernels are BatchTopK's, over several levels.</summary>
    public override string KernelFile => "batchtopk.cu";
    public override IReadOnlyList<string> KernelFiles => ["topk.cu", KernelFile];

    internal override BatchedStep CreateGpuStep(BatchedSaeTrainer trainer) => new BatchTopKStep(trainer);

    public override IReadOnlyList<DeviceCheckCase> DeviceChecks { get; } =
    [
        new("matryoshka", [new("matryoshka", 4, new MatryoshkaOptions([8, 24])), new("matryoshka", 6, new MatryoshkaOptions([8, 24]))]),
        new("matryoshka-auxk", [new("matryoshka", 5, new MatryoshkaOptions([16], AuxK: 8))]),
    ];
}
