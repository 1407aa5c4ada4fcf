using IoiBench.Model;
using IoiBench.Sites;

namespace IoiBench.Saes;

/// <summary>
/// An SAE trained elsewhere (or by an earlier IoiBench run), read from its folder for scoring: its name (the folder's),
/// the file format, the SAE with every input transform of its format folded into its weights, the activation scale it
/// reads raw activations at, the hook it was trained on, the basis its activations were in, and a hash of its files.
/// <see cref="Node"/> is set for IoiBench's own files, which name their site exactly.
/// </summary>
public sealed record ImportedSae(string Name, string Directory, string Format, SparseAutoencoder Sae, float Scale,
    HeadHook Hook, ModelBasis Basis, string FileHash)
{
    public SiteNode? Node { get; init; }

    /// <summary>Whether it reads <paramref name="node"/>: its own node, or any node at its hook (every position).</summary>
    public bool Reads(SiteNode node) => Node is { } own ? own == node : node.HeadHook == Hook;
}
