using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// The per-site input scale of the reference: s = mean‖a‖ / √d over the train activations, so that a/s has mean norm
/// √d. The same s applies to every split; SAEs see a/s and their edits are multiplied back by s.
/// </summary>
public static class ActivationScale
{
    public static float Of(Tensor activations)
    {
        int n = activations.Shape[0], d = activations.Shape[1];
        double total = 0;
        for (int p = 0; p < n; p++) total += System.Numerics.Tensors.TensorPrimitives.Norm(activations.Row(p));
        return (float)(total / n / Math.Sqrt(d));
    }

    /// <summary>A copy of <paramref name="activations"/> divided by <paramref name="scale"/>.</summary>
    public static Tensor Apply(Tensor activations, float scale)
    {
        var scaled = activations.Clone();
        System.Numerics.Tensors.TensorPrimitives.Divide(scaled.Span, scale, scaled.Span);
        return scaled;
    }

    /// <summary>A copy of SAE-space values multiplied back by <paramref name="scale"/> (the raw site scale).</summary>
    public static Tensor Undo(Tensor normalised, float scale)
    {
        var raw = normalised.Clone();
        System.Numerics.Tensors.TensorPrimitives.Multiply(raw.Span, scale, raw.Span);
        return raw;
    }
}
