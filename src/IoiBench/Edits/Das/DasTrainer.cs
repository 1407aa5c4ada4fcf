using System.Diagnostics;
using IoiBench.Model;
using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Edits.Das;

/// <summary>DAS's training: the subspace dimension n, epochs at most, epochs without a better validation loss before
/// it stops, Adam's step size, and the seed of the batch order.</summary>
public sealed record DasOptions(int Dimensions = 2, int MaxEpochs = 20, int Patience = 3, double LearningRate = 0.02, ulong Seed = 0);

/// <summary>
/// The subspaces DAS learned (per node, [n, width] with orthonormal rows; the best epoch's on validation) and what the
/// training cost: epochs, optimiser steps, forward-and-backward passes over prompts, and time.
/// </summary>
public sealed record DasResult(IReadOnlyList<Tensor> Subspaces, int Epochs, int Steps, long PromptPasses,
    double InitialValidationLoss, double ValidationLoss, TimeSpan Elapsed);

/// <summary>
/// Distributed alignment search: per node an n-dimensional subspace, the same for every prompt, such that the
/// interchange x' = x + P(x_cf − x) at all the nodes together makes the model's next-token distribution the
/// counterfactual-patched run's. The loss is the cross-entropy H(p_cf, p_edit) at the answer position, averaged over
/// the batch. Each basis B (rows orthonormal) takes Adam steps along its gradient projected onto the tangent space of
/// the orthonormal frames, G − ½(G·Bᵀ + B·Gᵀ)·B, and is then made orthonormal again by Gram–Schmidt (a QR retraction).
/// Training stops when the validation loss has not improved for <see cref="DasOptions.Patience"/> epochs.
/// </summary>
public static class DasTrainer
{
    private const double Beta1 = 0.9, Beta2 = 0.999, AdamEpsilon = 1e-8;

    /// <param name="initial">Per node, the starting basis [n, width] with orthonormal rows.</param>
    /// <param name="progress">Reports the training prompts passed, out of every epoch's.</param>
    public static DasResult Train(DasProblem problem, IReadOnlyList<Tensor> initial, DasOptions options,
        IProgress<ProgressUpdate>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var bases = initial.Select(b => b.Clone()).ToArray();
        var firstMoment = bases.Select(b => new double[b.Length]).ToArray();
        var secondMoment = bases.Select(b => new double[b.Length]).ToArray();
        var order = new DeterministicRandom(options.Seed, 0xDA5);
        double initialLoss = ValidationLoss(problem, bases), bestLoss = initialLoss;
        var best = bases.Select(b => b.Clone()).ToArray();
        int steps = 0, epochs = 0, sinceBest = 0;
        long passes = 0;
        while (epochs < options.MaxEpochs && sinceBest < options.Patience)
        {
            epochs++;
            int done = 0;
            foreach (var batch in Shuffled(problem.TrainBatches, order))
            {
                var pass = problem.Run(batch, Patched(problem, batch, bases));
                var (_, logitGradient) = CrossEntropy(pass.Logits, problem.Target, batch);
                var nodeGradients = pass.Backward(logitGradient);
                steps++;
                for (int node = 0; node < bases.Length; node++)
                {
                    var gradient = BasisGradient(problem, node, batch, bases[node], nodeGradients[node]);
                    AdamStep(bases[node], Tangent(gradient, bases[node]), firstMoment[node], secondMoment[node], steps, options.LearningRate);
                    bases[node] = SubspaceEdit.Orthonormal(bases[node]);
                }
                passes += batch.Length;
                done += batch.Length;
                progress?.Report(new ProgressUpdate("das", (long)(epochs - 1) * problem.TrainPrompts + done,
                    (long)options.MaxEpochs * problem.TrainPrompts));
            }
            double loss = ValidationLoss(problem, bases);
            passes += problem.ValidationPrompts;
            if (loss < bestLoss)
            {
                (bestLoss, sinceBest) = (loss, 0);
                best = [.. bases.Select(b => b.Clone())];
            }
            else sinceBest++;
        }
        return new DasResult(best, epochs, steps, passes, initialLoss, bestLoss, clock.Elapsed);
    }

    /// <summary>
    /// The mean over the batch's rows of H(target, softmax(logits)) = −Σ_t target_t·log softmax_t, and its gradient
    /// on the logits, (softmax − target)/batch.
    /// </summary>
    public static (double Loss, Tensor Gradient) CrossEntropy(Tensor logits, Tensor target, int[] rows)
    {
        var gradient = logits.Clone();
        double loss = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            var g = gradient.Row(r);
            var t = target.Row(rows[r]);
            float max = TensorPrimitives.Max(logits.Row(r));
            double logSum = Math.Log(logits.Row(r).ToArray().Sum(x => Math.Exp(x - max))) + max;
            for (int v = 0; v < g.Length; v++) loss -= t[v] * (logits.Row(r)[v] - logSum);
            TransformerOps.SoftMax(logits.Row(r), g);
            TensorPrimitives.Subtract(g, t, g);
            TensorPrimitives.Multiply(g, 1f / rows.Length, g);
        }
        return (loss / rows.Length, gradient);
    }

    /// <summary>The mean cross-entropy over every validation prompt with the nodes' current subspaces.</summary>
    public static double ValidationLoss(DasProblem problem, IReadOnlyList<Tensor> bases)
    {
        double total = 0;
        foreach (var batch in problem.ValidationBatches)
            total += CrossEntropy(problem.Run(batch, Patched(problem, batch, bases)).Logits, problem.Target, batch).Loss * batch.Length;
        return total / problem.ValidationPrompts;
    }

    /// <summary>Per node, the batch's interchanged rows x + P(x_cf − x).</summary>
    private static Tensor[] Patched(DasProblem problem, int[] batch, IReadOnlyList<Tensor> bases) =>
        [.. bases.Select((basis, node) =>
        {
            var (clean, counterfactual) = (problem.Clean[node], problem.Counterfactual[node]);
            var rows = new Tensor(batch.Length, clean.Shape[1]);
            for (int r = 0; r < batch.Length; r++)
                SubspaceEdit.Interchange(clean.Row(batch[r]), counterfactual.Row(batch[r]), basis, rows.Row(r));
            return rows;
        })];

    /// <summary>
    /// dL/dB for x' = x + Bᵀ·B·δ, δ = x_cf − x, from g = dL/dx' per row: row k of the gradient is
    /// Σ_rows (b_k·δ)·g + (b_k·g)·δ.
    /// </summary>
    private static double[] BasisGradient(DasProblem problem, int node, int[] batch, Tensor basis, Tensor rowGradients)
    {
        int n = basis.Shape[0], width = basis.Shape[1];
        var gradient = new double[n * width];
        var delta = new float[width];
        for (int r = 0; r < batch.Length; r++)
        {
            TensorPrimitives.Subtract(problem.Counterfactual[node].Row(batch[r]), problem.Clean[node].Row(batch[r]), delta);
            var g = rowGradients.Row(r);
            for (int k = 0; k < n; k++)
            {
                double along = TensorPrimitives.Dot(basis.Row(k), delta), read = TensorPrimitives.Dot(basis.Row(k), g);
                for (int c = 0; c < width; c++) gradient[k * width + c] += along * g[c] + read * delta[c];
            }
        }
        return gradient;
    }

    /// <summary>G − ½(G·Bᵀ + B·Gᵀ)·B: the part of the gradient that keeps the rows orthonormal to first order.</summary>
    private static double[] Tangent(double[] gradient, Tensor basis)
    {
        int n = basis.Shape[0], width = basis.Shape[1];
        var symmetric = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int c = 0; c < width; c++)
                    symmetric[i * n + j] += 0.5 * (gradient[i * width + c] * basis.Row(j)[c] + basis.Row(i)[c] * gradient[j * width + c]);
        var tangent = (double[])gradient.Clone();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int c = 0; c < width; c++) tangent[i * width + c] -= symmetric[i * n + j] * basis.Row(j)[c];
        return tangent;
    }

    private static void AdamStep(Tensor basis, double[] gradient, double[] m, double[] v, int step, double learningRate)
    {
        double correction1 = 1 - Math.Pow(Beta1, step), correction2 = 1 - Math.Pow(Beta2, step);
        var values = basis.Span;
        for (int i = 0; i < gradient.Length; i++)
        {
            m[i] = Beta1 * m[i] + (1 - Beta1) * gradient[i];
            v[i] = Beta2 * v[i] + (1 - Beta2) * gradient[i] * gradient[i];
            values[i] -= (float)(learningRate * (m[i] / correction1) / (Math.Sqrt(v[i] / correction2) + AdamEpsilon));
        }
    }

    private static IEnumerable<int[]> Shuffled(IReadOnlyList<int[]> batches, DeterministicRandom random)
    {
        var order = Enumerable.Range(0, batches.Count).ToArray();
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order.Select(i => batches[i]);
    }
}
