using IoiBench.Behaviour;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Edits.Das;

/// <summary>
/// DAS's problem (<see cref="DasProblem"/>) on GPT-2 at a cross-section's nodes. Each batch starts at the first node's
/// layer from its clean run's residual stream (the layers before would only recompute it), writes every node's rows at
/// the node's position, and is scored at the answer position; the backward pass is <see cref="Gpt2Backprop"/>'s.
/// The targets are the counterfactual-patched runs of the same prompts.
/// </summary>
public static class Gpt2Interchange
{
    private sealed record Batch(TokenBatch Tokens, int[][] NodePositions, int[] AnswerPositions, float[]? Residual);

    /// <param name="prompts">The clean prompts: the first <paramref name="trainCount"/> train DAS, the rest validate it.</param>
    /// <param name="clean">Per node, the prompts' clean activations [prompts, width].</param>
    /// <param name="counterfactual">Per node, their counterfactual activations [prompts, width].</param>
    public static DasProblem Build(Gpt2Weights weights, IReadOnlyList<TokenizedPrompt> prompts, IReadOnlyList<SiteNode> nodes,
        IReadOnlyList<Tensor> clean, IReadOnlyList<Tensor> counterfactual, int trainCount, int batchSize)
    {
        var backprop = new Gpt2Backprop(weights);
        var forward = new Gpt2Model(weights);
        int start = nodes.Min(n => n.Layer);
        var batches = new Dictionary<int, Batch>();
        List<int[]> Split(int offset, int count)
        {
            var indices = new List<int[]>();
            foreach (var batch in PromptRunner.Batches([.. prompts.Skip(offset).Take(count)], batchSize))
            {
                int[] members = [.. batch.Indices.Select(i => i + offset)];
                float[]? residual = null;
                if (start > 0)
                {
                    var hooks = new HookSet();
                    var capture = hooks.CaptureResidual(start);
                    forward.Forward(batch.Tokens, [], hooks);
                    residual = capture.Values;
                }
                batches[members[0]] = new Batch(batch.Tokens, [.. nodes.Select(n => batch.Prompts.Select(p => p.Positions[n.Position]).ToArray())],
                    [.. batch.Prompts.Select(p => p.Positions.End)], residual);
                indices.Add(members);
            }
            return indices;
        }
        var train = Split(0, trainCount);
        var validation = Split(trainCount, prompts.Count - trainCount);

        InterchangePass Run(int[] members, Tensor[] patched)
        {
            var batch = batches[members[0]];
            var hooks = new HookSet();
            if (batch.Residual is { } residual) hooks.StartAt(start, residual);
            for (int node = 0; node < nodes.Count; node++) hooks.Patch(nodes[node].HeadHook, batch.NodePositions[node], patched[node].Span.ToArray());
            var pass = backprop.Forward(batch.Tokens, batch.AnswerPositions, hooks);
            return new InterchangePass(pass.Logits, logitGradient =>
            {
                var gradients = pass.Backward(logitGradient);
                return [.. hooks.Patches.Select((patch, node) => Tensor.From(gradients.Patches[patch], members.Length, patched[node].Shape[1]))];
            });
        }

        var target = new Tensor(prompts.Count, weights.Config.VocabSize);
        foreach (var members in train.Concat(validation))
        {
            var cfRows = counterfactual.Select(rows => rows.Rows(members)).ToArray();
            var logits = Run(members, cfRows).Logits;
            for (int r = 0; r < members.Length; r++) TransformerOps.SoftMax(logits.Row(r), target.Row(members[r]));
        }
        return new DasProblem(clean, counterfactual, target, train, validation, Run);
    }
}
