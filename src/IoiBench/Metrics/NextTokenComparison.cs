using IoiBench.Behaviour;
using IoiBench.Edits;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Metrics;

/// <summary>
/// The clean run's next-token distribution and logit difference on a prompt set, kept so that patched runs can be
/// compared with it prompt by prompt: KL(clean ‖ patched) of the next-token distribution at the last position, and the
/// change of the logit difference.
/// </summary>
public sealed class NextTokenComparison
{
    private readonly CleanRunCache _runs;
    private readonly Tensor _cleanLogProbabilities;
    private readonly float[] _cleanLogitDiff;

    public int Prompts => _runs.Prompts.Count;

    /// <summary>
    /// Runs the prompts clean. <paramref name="patchedLayers"/>: the layers of the nodes later runs will patch, whose
    /// residual stream is kept so that those runs start there (<see cref="CleanRunCache"/>).
    /// </summary>
    public NextTokenComparison(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts, IEnumerable<int> patchedLayers,
        IProgress<ProgressUpdate>? progress = null)
    {
        _cleanLogProbabilities = new Tensor(prompts.Count, model.Config.VocabSize);
        _cleanLogitDiff = new float[prompts.Count];
        _runs = new CleanRunCache(model, prompts, patchedLayers, (batch, logits) =>
        {
            for (int b = 0; b < batch.Indices.Length; b++)
            {
                int p = batch.Indices[b];
                LogSoftmax(logits.Row(b), _cleanLogProbabilities.Row(p));
                _cleanLogitDiff[p] = IoiScore.FromLogits(logits.Row(b), prompts[p].IoToken, prompts[p].SToken).LogitDiff;
            }
        }, progress);
    }

    /// <summary>Per prompt: KL(clean ‖ patched) in nats, and the patched logit difference minus the clean one.</summary>
    public (double[] Kl, double[] LogitDiffChange) Compare(IReadOnlyDictionary<SiteNode, Tensor> patches, IProgress<ProgressUpdate>? progress = null)
    {
        var kl = new double[Prompts];
        var change = new double[Prompts];
        var logProbabilities = new float[_cleanLogProbabilities.Shape[1]];
        _runs.Run(patches, (batch, logits) =>
        {
            for (int b = 0; b < batch.Indices.Length; b++)
            {
                int p = batch.Indices[b];
                LogSoftmax(logits.Row(b), logProbabilities);
                kl[p] = KlDivergence(_cleanLogProbabilities.Row(p), logProbabilities);
                change[p] = IoiScore.FromLogits(logits.Row(b), batch.Prompts[b].IoToken, batch.Prompts[b].SToken).LogitDiff - (double)_cleanLogitDiff[p];
            }
        }, progress);
        return (kl, change);
    }

    /// <summary>log softmax(x), through the maximum for stability.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> output)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        float logNormaliser = max + (float)Math.Log(sum);
        System.Numerics.Tensors.TensorPrimitives.Subtract(logits, logNormaliser, output);
    }

    /// <summary>KL(P ‖ Q) = Σ_t P(t)·(log P(t) − log Q(t)) from log-probabilities, in double precision.</summary>
    public static double KlDivergence(ReadOnlySpan<float> logP, ReadOnlySpan<float> logQ)
    {
        double kl = 0;
        for (int t = 0; t < logP.Length; t++) kl += Math.Exp(logP[t]) * ((double)logP[t] - logQ[t]);
        return Math.Max(kl, 0);   // rounding can leave a tiny negative for identical distributions
    }
}
