namespace IoiBench.Model;

/// <summary>
/// The coordinates a model's weights, and so its per-head q/k/v/z, are in. Logits are the same in every basis.
/// <see cref="Raw"/>: the checkpoint as stored. <see cref="Processed"/>: TransformerLens's processing with the attention
/// refactor (<see cref="WeightProcessing"/>), the basis the reference read its sites in.
/// </summary>
public enum ModelBasis { Raw, Processed }

public static class ModelBases
{
    /// <summary>The basis's name on the command line and in files.</summary>
    public static string Name(this ModelBasis basis) => basis.ToString().ToLowerInvariant();
}
