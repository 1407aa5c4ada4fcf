using IoiBench.Behaviour;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Edits;

/// <summary>
/// The clean run of one list of prompts, kept so that patched runs of the same prompts start at their first patched
/// layer. The clean run keeps the residual stream entering each of <c>keptLayers</c>; a patched run starts from the
/// last kept layer at or before its first patched node's layer (from the embedding when there is none). The layers it
/// skips would only recompute the clean run, so its logits are the full patched pass's, for a fraction of the work:
/// the LD-recovered evaluation, the edits and the error pathology each repeat one prompt list with nodes near the end
/// of the model patched. Memory: prompts × tokens × d_model floats per kept layer (GPT-2 small, 500 prompts of 17
/// tokens: 26 MB a layer).
/// </summary>
public sealed class CleanRunCache
{
    private readonly ITransformer _model;
    private readonly IReadOnlyList<TokenizedPrompt> _prompts;
    private readonly int[] _keptLayers;
    /// <summary>Per batch (keyed by its first prompt's index) and kept layer, the residual stream entering the layer.</summary>
    private readonly Dictionary<(int FirstPrompt, int Layer), float[]> _residuals = new();

    /// <summary>The clean run's IOI scores, in input order.</summary>
    public IoiScore[] Clean { get; }

    public IReadOnlyList<TokenizedPrompt> Prompts => _prompts;

    /// <summary>
    /// Runs the prompts clean, keeping the residual stream entering each of <paramref name="keptLayers"/> (layer 0, the
    /// embedding, needs no keeping); <paramref name="onCleanLogits"/> sees each batch's last-position logits.
    /// </summary>
    public CleanRunCache(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts, IEnumerable<int> keptLayers,
        Action<PromptRunner.Batch, Tensor>? onCleanLogits = null, IProgress<ProgressUpdate>? progress = null)
    {
        _model = model;
        _prompts = prompts;
        _keptLayers = [.. keptLayers.Where(l => l > 0).Distinct().Order()];
        var captures = new Dictionary<(int, int), ResidualCapture>();
        Clean = new IoiScore[prompts.Count];
        PromptRunner.Run(model, prompts, batch =>
        {
            var hooks = new HookSet();
            foreach (int layer in _keptLayers) captures[(batch.Indices[0], layer)] = hooks.CaptureResidual(layer);
            return hooks;
        }, (batch, logits) =>
        {
            PromptRunner.RecordScores(Clean, batch, logits);
            onCleanLogits?.Invoke(batch, logits);
        }, progress, "clean forward");
        foreach (var (key, capture) in captures) _residuals[key] = capture.Values;
    }

    /// <summary>The layer a run patching these nodes starts at.</summary>
    public int StartLayer(IEnumerable<SiteNode> nodes)
    {
        int first = nodes.Select(n => n.Layer).DefaultIfEmpty(0).Min();
        return _keptLayers.LastOrDefault(l => l <= first);
    }

    /// <summary>The IOI score of every prompt (in input order) with each node forced to its rows of <paramref name="activations"/>.</summary>
    public IoiScore[] Score(IReadOnlyDictionary<SiteNode, Tensor> activations, IProgress<ProgressUpdate>? progress = null)
    {
        var scores = new IoiScore[_prompts.Count];
        Run(activations, (batch, logits) => PromptRunner.RecordScores(scores, batch, logits), progress);
        return scores;
    }

    /// <summary>Runs every batch with the nodes patched (<see cref="PatchedRun.Patches"/>) and hands its last-position logits to <paramref name="onLogits"/>.</summary>
    public void Run(IReadOnlyDictionary<SiteNode, Tensor> activations, Action<PromptRunner.Batch, Tensor> onLogits,
        IProgress<ProgressUpdate>? progress = null)
    {
        int start = StartLayer(activations.Keys);
        var patches = PatchedRun.Patches(activations);
        PromptRunner.Run(_model, _prompts, batch =>
        {
            var hooks = patches(batch);
            if (start > 0) hooks.StartAt(start, _residuals[(batch.Indices[0], start)]);
            return hooks;
        }, onLogits, progress, "patched forward");
    }
}
