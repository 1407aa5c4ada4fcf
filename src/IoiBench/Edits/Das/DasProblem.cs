using IoiBench.Numerics;

namespace IoiBench.Edits.Das;

/// <summary>One forward pass of the model after the nodes: its logits [batch, vocab], and the backward pass from
/// dLoss/dLogits to each node's patched rows ([batch, width] per node).</summary>
public sealed record InterchangePass(Tensor Logits, Func<Tensor, Tensor[]> Backward);

/// <summary>
/// What DAS learns from at one cross-section: per node, the clean and the counterfactual activations of the prompts
/// ([prompts, width] each); the next-token distribution of each prompt's counterfactual-patched run ([prompts, vocab]);
/// the prompts in batches, for training and for validation; and the model after the nodes, run on one batch with every
/// node's rows patched (in <see cref="Run"/>, a batch is one of <see cref="TrainBatches"/> or
/// <see cref="ValidationBatches"/>).
/// </summary>
public sealed record DasProblem(IReadOnlyList<Tensor> Clean, IReadOnlyList<Tensor> Counterfactual, Tensor Target,
    IReadOnlyList<int[]> TrainBatches, IReadOnlyList<int[]> ValidationBatches, Func<int[], Tensor[], InterchangePass> Run)
{
    public int TrainPrompts => TrainBatches.Sum(b => b.Length);
    public int ValidationPrompts => ValidationBatches.Sum(b => b.Length);
}
