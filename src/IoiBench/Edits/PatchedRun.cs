using IoiBench.Behaviour;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Sites;

namespace IoiBench.Edits;

/// <summary>
/// Runs base prompts with every node of a cross-section forced to given activations (raw scale, one row per prompt),
/// each written at the node's semantic position in the base prompt, and scores the last position.
/// </summary>
public static class PatchedRun
{
    /// <summary>The hooks of one batch: each node's rows for the batch's prompts, written at the node's position.</summary>
    public static Func<PromptRunner.Batch, HookSet> Patches(IReadOnlyDictionary<SiteNode, Tensor> activations) => batch =>
    {
        var hooks = new HookSet();
        foreach (var (node, values) in activations)
        {
            int width = values.Shape[1];
            var rows = new float[batch.Indices.Length * width];
            for (int b = 0; b < batch.Indices.Length; b++) values.Row(batch.Indices[b]).CopyTo(rows.AsSpan(b * width, width));
            hooks.Patch(node.HeadHook, [.. batch.Prompts.Select(p => p.Positions[node.Position])], rows);
        }
        return hooks;
    };

    /// <summary>Per prompt, 1 where the two runs' argmax tokens agree, else 0 (edit accuracy's per-prompt term).</summary>
    public static double[] Agreement(IoiScore[] edited, IoiScore[] reference) =>
        [.. edited.Select((s, i) => s.Argmax == reference[i].Argmax ? 1.0 : 0.0)];
}
