namespace IoiBench.Model;

/// <summary>
/// The coordinates a model's weights, and so its activations, are in. Logits are the same in every basis.
/// <see cref="Raw"/>: the checkpoint as stored. <see cref="Processed"/>: TransformerLens's processing with the attention
/// refactor (<see cref="WeightProcessing"/>), the basis the reference read its sites in. <see cref="TransformerLens"/>:
/// the processing <c>HookedTransformer.from_pretrained</c> applies by default — fold_ln, center_writing_weights,
/// center_unembed, fold_value_biases, no refactor — the basis of SAEs trained with TransformerLens (SAELens's).
/// </summary>
public enum ModelBasis { Raw, Processed, TransformerLens }

public static class ModelBases
{
    /// <summary>The basis's name on the command line and in files.</summary>
    public static string Name(this ModelBasis basis) => basis.ToString().ToLowerInvariant();
}
