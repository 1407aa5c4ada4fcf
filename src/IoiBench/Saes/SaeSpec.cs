using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// One SAE of a sweep: its variant's name, its sparsity setting (λ or k, the variant's <see cref="SaeVariant.SparsityKey"/>)
/// and the variant's options (null: its defaults).
/// </summary>
public sealed record SaeSpec(string Variant, float Value, VariantOptions? VariantOptions = null)
{
    /// <summary>The variant's registry entry.</summary>
    public SaeVariant Kind => SaeVariants.Get(Variant);

    public VariantOptions Options => VariantOptions ?? Kind.DefaultOptions;

    /// <summary>"vanilla-l1-2.5", "topk-k8": the SAE's directory name in a sweep.</summary>
    public string Name => Kind.SpecName(Value);

    /// <summary>A fresh SAE of this spec, initialised from <paramref name="rng"/>.</summary>
    public SparseAutoencoder Create(int dIn, int width, DeterministicRandom rng) => Kind.Create(dIn, width, Value, Options, rng);

    /// <summary>What the spec trains: variant, value and every option (default ones spelled out), for fingerprints.</summary>
    public string Describe() => $"{Variant} {Value:R} {Options}";
}
