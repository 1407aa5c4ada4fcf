using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Named parameter tensors of an SAE, in SAELens's names and layouts (W_enc [d_in, d_sae], W_dec [d_sae, d_in],
/// b_enc [d_sae], b_dec [d_in]; gated adds W_gate-style names). Gradients use the same names and shapes.
/// </summary>
public sealed class SaeParameters
{
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;
    public Tensor this[string name] => _tensors[name];

    public void Add(string name, Tensor tensor) => _tensors.Add(name, tensor);

    /// <summary>Zero-filled tensors with the same names and shapes (for gradients and optimiser moments).</summary>
    public SaeParameters ZerosLike()
    {
        var zeros = new SaeParameters();
        foreach (var (name, tensor) in _tensors) zeros.Add(name, new Tensor(tensor.Shape));
        return zeros;
    }

    public void Clear()
    {
        foreach (var tensor in _tensors.Values) tensor.Span.Clear();
    }
}
