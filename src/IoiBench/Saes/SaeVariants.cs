namespace IoiBench.Saes;

/// <summary>The registry: every SAE architecture IoiBench trains, scores and writes, one line each.</summary>
public static class SaeVariants
{
    public static readonly IReadOnlyList<SaeVariant> All =
    [
        VanillaVariant.Instance,
        GatedVariant.Instance,
        TopKVariant.Instance,
        JumpReluVariant.Instance,
        BatchTopKVariant.Instance,
        MatryoshkaVariant.Instance,
    ];

    /// <summary>The variant of that name, or null.</summary>
    public static SaeVariant? Find(string name) => All.FirstOrDefault(v => v.Name == name);

    public static SaeVariant Get(string name) =>
        Find(name) ?? throw new InvalidInputException($"unknown SAE variant '{name}' ({string.Join(", ", All.Select(v => v.Name))}).");

    /// <summary>The names, comma-separated, for messages.</summary>
    public static string Names => string.Join(", ", All.Select(v => v.Name));
}
