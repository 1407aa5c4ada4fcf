using IoiBench.Numerics;

namespace IoiBench.Model;

/// <summary>
/// A GPT-2 forward pass with hooks: <see cref="Gpt2Model"/> on the CPU, <see cref="CudaGpt2Model"/> on a GPU. Both
/// take the same tokens, logit positions and <see cref="HookSet"/>, and agree within float32 rounding. Disposing frees
/// the GPU's copy of the weights.
/// </summary>
public interface ITransformer : IDisposable
{
    Gpt2Config Config { get; }

    /// <summary>
    /// Runs the batch and returns logits [rows, vocab], one row per entry of <paramref name="logitPositions"/>,
    /// which holds P positions per prompt (prompt-major, so row b·P + p is prompt b's p-th position).
    /// With no positions it returns no rows, for passes that only capture activations.
    /// </summary>
    Tensor Forward(TokenBatch tokens, ReadOnlySpan<int> logitPositions, HookSet? hooks = null);
}

public static class Transformers
{
    /// <summary>The weights' forward pass on <paramref name="device"/>: on a GPU, a copy of the weights uploaded once.</summary>
    public static ITransformer On(ComputeDevice device, Gpt2Weights weights) =>
        device == ComputeDevice.Cuda ? new CudaGpt2Model(weights) : new Gpt2Model(weights);
}
