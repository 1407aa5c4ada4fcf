using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>
/// Gao et al.'s auxiliary loss for dead latents (top-k and BatchTopK SAEs): the top <see cref="AuxK"/> pre-activations
/// among the latents dead in the previous epoch reconstruct the residual e = x − x̂ (held fixed), weighted by
/// coefficient·min(dead / AuxK, 1): L_aux = weight · mean_b ‖z_aux·W_dec − e‖². Its gradient reaches W_dec and, through
/// the kept dead latents, the encoder.
/// </summary>
internal sealed class AuxKTerm(int auxK, float coefficient, bool relu)
{
    private readonly Dictionary<(string, int, int), Tensor> _scratch = new();

    public int AuxK => auxK;
    public float Coefficient => coefficient;

    /// <summary>Latents the trainer found dead (silent through the previous epoch): the term's candidates.</summary>
    public bool[]? DeadLatents { get; set; }

    /// <summary>
    /// Gradient checks pin e here so that finite differences see the stop-gradient the analytic gradient implements;
    /// null means x − x̂ of the batch.
    /// </summary>
    public Tensor? FrozenTarget { get; set; }

    /// <summary>The term on a batch, from the pre-activations and the residual x̂ − x (unscaled); null when it is off.</summary>
    public Evaluation? Evaluate(Tensor pre, Tensor residual, Tensor wDec)
    {
        if (auxK == 0 || DeadLatents is not { } dead) return null;
        int deadCount = dead.Count(d => d);
        if (deadCount == 0) return null;
        int batch = pre.Shape[0], width = pre.Shape[1], dIn = residual.Shape[1];
        float weight = coefficient * Math.Min(deadCount / (float)auxK, 1f);
        var latents = TopKSelection.Rows(pre, Scratch("latents", batch, width), Math.Min(auxK, deadCount), dead, relu);
        // ê − e with ê = z_aux·W_dec (no bias) and e = x − x̂ = −residual.
        var difference = Scratch("difference", batch, dIn);
        Gemm.Multiply(latents.Span, wDec.Span, difference.Span, batch, dIn, width);
        if (FrozenTarget is { } target) TensorPrimitives.Subtract(difference.Span, target.Span, difference.Span);
        else TensorPrimitives.Add(difference.Span, residual.Span, difference.Span);
        return new Evaluation(latents, difference, weight, weight * TensorPrimitives.SumOfSquares(difference.Span) / batch);
    }

    /// <summary>Adds the term's gradient into ∂/∂W_dec and, through the kept dead latents, into ∂/∂latents.</summary>
    public void Backward(Evaluation term, Tensor wDec, Tensor wDecGradient, Tensor dLatents)
    {
        var (latents, difference) = (term.Latents, term.Difference);
        int batch = latents.Shape[0], width = latents.Shape[1], dIn = difference.Shape[1];
        TensorPrimitives.Multiply(difference.Span, 2f * term.Weight / batch, difference.Span);
        Gemm.Multiply(latents.Span, difference.Span, wDecGradient.Span, width, dIn, batch, transA: true, beta: 1f);
        var dAux = Scratch("dLatents", batch, width);
        Gemm.Multiply(difference.Span, wDec.Span, dAux.Span, batch, width, dIn, transB: true);
        LatentKernels.KeepWhereNonZero(dAux.Span, latents.Span);
        TensorPrimitives.Add(dLatents.Span, dAux.Span, dLatents.Span);
    }

    /// <summary>The kept dead latents, their reconstruction minus e, the term's weight and its value.</summary>
    public sealed record Evaluation(Tensor Latents, Tensor Difference, float Weight, double Loss);

    private Tensor Scratch(string name, int rows, int columns)
    {
        if (!_scratch.TryGetValue((name, rows, columns), out var buffer))
            _scratch[(name, rows, columns)] = buffer = new Tensor(rows, columns);
        return buffer;
    }
}
