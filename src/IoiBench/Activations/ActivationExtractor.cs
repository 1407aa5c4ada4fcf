using IoiBench.Behaviour;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Activations;

/// <summary>Reads every node's activation for every prompt variant in batched forward passes (one pass per batch and variant).</summary>
public static class ActivationExtractor
{
    public static SiteActivations Extract(ITransformer model, IReadOnlyList<IoiExample> examples, IReadOnlyList<SiteNode> nodes,
        IProgress<ProgressUpdate>? progress = null, string stage = "extracting activations")
    {
        int n = examples.Count;
        var tensors = new Dictionary<string, Tensor>();
        var variants = Enum.GetValues<PromptVariant>();
        long done = 0, total = (long)n * variants.Length;
        foreach (var variant in variants)
        {
            var prompts = examples.Select(e => PromptVariants.Select(e, variant)).ToList();
            var outputs = nodes.Select(node => tensors[PromptVariants.Key(variant, node)] = new Tensor(n, node.Width(model.Config))).ToArray();
            foreach (var batch in PromptRunner.Batches(prompts))
            {
                var hooks = new HookSet();
                var captures = nodes.Select(node => hooks.Capture(node.HeadHook, batch.Prompts.Select(p => p.Positions[node.Position]).ToArray())).ToArray();
                model.Forward(batch.Tokens, logitPositions: [], hooks);
                for (int k = 0; k < nodes.Count; k++)
                    for (int b = 0; b < batch.Indices.Length; b++)
                        captures[k].Row(b).CopyTo(outputs[k].Row(batch.Indices[b]));
                done += batch.Indices.Length;
                progress?.Report(new ProgressUpdate(stage, done, total));
            }
        }
        return new SiteActivations(nodes, n, tensors);
    }
}
