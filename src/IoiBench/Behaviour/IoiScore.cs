namespace IoiBench.Behaviour;

/// <summary>The IOI behaviour of one prompt, read off its last-position logits.</summary>
public readonly record struct IoiScore(float LogitDiff, bool Correct, bool Top1, int Argmax = -1)
{
    /// <summary>
    /// Logit difference logit[IO] − logit[S]; correct when it is positive; the argmax over the whole vocabulary (ties
    /// go to the lowest id, as argmax does) and top-1 when it is IO.
    /// </summary>
    public static IoiScore FromLogits(ReadOnlySpan<float> logits, int ioToken, int sToken)
    {
        float diff = logits[ioToken] - logits[sToken];
        int argmax = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
        return new IoiScore(diff, diff > 0, argmax == ioToken, argmax);
    }
}

/// <summary>Accuracy (IO logit above S logit), top-1 accuracy and mean logit difference over a prompt set.</summary>
public sealed record IoiMetrics(double Accuracy, double Top1Accuracy, double LogitDiff, int Prompts)
{
    public static IoiMetrics From(IReadOnlyList<IoiScore> scores)
    {
        if (scores.Count == 0) throw new ArgumentException("IOI metrics need at least one prompt.");
        return new IoiMetrics(
            scores.Count(s => s.Correct) / (double)scores.Count,
            scores.Count(s => s.Top1) / (double)scores.Count,
            scores.Average(s => (double)s.LogitDiff),
            scores.Count);
    }
}
