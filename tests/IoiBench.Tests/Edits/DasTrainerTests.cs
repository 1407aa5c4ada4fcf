using IoiBench.Dictionaries;
using IoiBench.Edits;
using IoiBench.Edits.Das;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Tests.Edits;

/// <summary>
/// DAS on a planted problem: the attribute (one of four values) lives along a known unit direction u of a 6-dimensional
/// activation, with larger noise in every other direction, and the "model" after the node reads only u:
/// logits_k = −(u·x − c_k)². DAS must find u from a random start, and so must DiffMean from the supervised codes; a
/// random direction must not do what they do.
/// </summary>
public class DasTrainerTests
{
    private const int Width = 6, Prompts = 600, Train = 480, BatchSize = 40;
    private static readonly float[] Levels = [-3, -1, 1, 3];
    private static readonly float[] Planted = Normalised([1, 2, 0, -1, 0, 1]);

    private static float[] Normalised(float[] v)
    {
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    /// <summary>u·x's level plus noise of standard deviation 2 outside u.</summary>
    private static void Draw(DeterministicRandom random, int value, Span<float> row)
    {
        for (int c = 0; c < Width; c++) row[c] = (float)(2 * random.NextGaussian());
        float along = System.Numerics.Tensors.TensorPrimitives.Dot(row, Planted);
        for (int c = 0; c < Width; c++) row[c] += (Levels[value] - along) * Planted[c];
    }

    private static Tensor Readout(Tensor rows)
    {
        var logits = new Tensor(rows.Shape[0], Levels.Length);
        for (int r = 0; r < rows.Shape[0]; r++)
        {
            float along = System.Numerics.Tensors.TensorPrimitives.Dot(rows.Row(r), Planted);
            for (int k = 0; k < Levels.Length; k++) logits.Row(r)[k] = -(along - Levels[k]) * (along - Levels[k]);
        }
        return logits;
    }

    /// <summary>The planted problem, and each prompt's value and its counterfactual's.</summary>
    private static (DasProblem Problem, (int Value, int Counterfactual)[] Values) PlantedData()
    {
        var random = new DeterministicRandom(7);
        var (clean, counterfactual) = (new Tensor(Prompts, Width), new Tensor(Prompts, Width));
        var values = new (int, int)[Prompts];
        for (int p = 0; p < Prompts; p++)
        {
            int value = random.Next(Levels.Length), other = (value + 1 + random.Next(Levels.Length - 1)) % Levels.Length;
            values[p] = (value, other);
            Draw(random, value, clean.Row(p));
            Draw(random, other, counterfactual.Row(p));
        }
        var target = Readout(counterfactual);
        for (int p = 0; p < Prompts; p++) IoiBench.Model.TransformerOps.SoftMax(target.Row(p), target.Row(p));
        static List<int[]> Batches(int from, int to) => [.. Enumerable.Range(from, to - from).Chunk(BatchSize)];

        InterchangePass Run(int[] batch, Tensor[] patched) => new(Readout(patched[0]), logitGradient =>
        {
            // d(−(u·x − c_k)²)/dx = −2(u·x − c_k)·u
            var gradient = new Tensor(batch.Length, Width);
            for (int r = 0; r < batch.Length; r++)
            {
                float along = System.Numerics.Tensors.TensorPrimitives.Dot(patched[0].Row(r), Planted), total = 0;
                for (int k = 0; k < Levels.Length; k++) total += logitGradient.Row(r)[k] * -2 * (along - Levels[k]);
                for (int c = 0; c < Width; c++) gradient.Row(r)[c] = total * Planted[c];
            }
            return [gradient];
        });
        return (new DasProblem([clean], [counterfactual], target, Batches(0, Train), Batches(Train, Prompts), Run), values);
    }

    /// <summary>On the validation prompts, the share whose interchanged readout's argmax is the counterfactual's.</summary>
    private static double EditAccuracy(DasProblem problem, Tensor basis)
    {
        int agree = 0;
        var edited = new float[Width];
        for (int p = Train; p < Prompts; p++)
        {
            SubspaceEdit.Interchange(problem.Clean[0].Row(p), problem.Counterfactual[0].Row(p), basis, edited);
            var logits = Readout(Tensor.From(edited, 1, Width)).Row(0).ToArray();
            agree += Array.IndexOf(logits, logits.Max()) == Array.IndexOf(problem.Target.Row(p).ToArray(), problem.Target.Row(p).ToArray().Max()) ? 1 : 0;
        }
        return agree / (double)(Prompts - Train);
    }

    [Fact]
    public void DasFindsThePlantedDirectionFromARandomStartAndARandomDirectionDoesNot()
    {
        var problem = PlantedData().Problem;
        var start = BaselineDirections.Random(Width, 1, new DeterministicRandom(3));
        var result = DasTrainer.Train(problem, [start], new DasOptions(Dimensions: 1, MaxEpochs: 30, Patience: 3, LearningRate: 0.05));

        var learned = result.Subspaces[0];
        double cosine = Math.Abs(System.Numerics.Tensors.TensorPrimitives.Dot(learned.Row(0), Planted));
        Assert.True(cosine > 0.99, $"|cos(b, u)| = {cosine:F4}");
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(learned.Row(0)), 5);
        Assert.True(result.ValidationLoss < 0.5 * result.InitialValidationLoss,
            $"validation cross-entropy {result.InitialValidationLoss:F3} → {result.ValidationLoss:F3}");
        Assert.True(EditAccuracy(problem, learned) > 0.95, $"DAS's edit accuracy {EditAccuracy(problem, learned):F3}");
        Assert.True(EditAccuracy(problem, start) < 0.6, $"a random direction's edit accuracy {EditAccuracy(problem, start):F3}");
        Assert.Equal(result.Steps, result.Epochs * problem.TrainBatches.Count);
        Assert.Equal((long)result.Epochs * Prompts, result.PromptPasses);
    }

    /// <summary>
    /// The planted value as the prompts' IO name: the supervised dictionary fitted on the training prompts' clean
    /// activations gives, for every pair of values, a DiffMean direction along u (up to the class means' sampling
    /// noise: |cos| > 0.9 for the closest levels), and its per-prompt edits work.
    /// </summary>
    [Fact]
    public void DiffMeanFindsThePlantedDirectionToo()
    {
        var (problem, values) = PlantedData();
        var template = new IoiTemplate("t", "test", "Then, {A} and {B} left. {S} said to");
        IoiPrompt Prompt(int value, int p) => new(template, 0, p % 2 == 0, $"N{value}", "S", "x", "y");
        var dictionary = SupervisedDictionary.Fit(SiteNode.Parse("z@0.0@end"), problem.Clean[0].Slice(0, Train),
            [.. Enumerable.Range(0, Train).Select(p => Prompt(values[p].Value, p))]);
        for (int from = 0; from < Levels.Length; from++)
            for (int to = 0; to < Levels.Length; to++)
                if (from != to)
                {
                    var direction = BaselineDirections.DiffMean(dictionary, IoiAttribute.Io, $"N{from}", $"N{to}");
                    double cosine = Math.Abs(System.Numerics.Tensors.TensorPrimitives.Dot(direction.Row(0), Planted));
                    Assert.True(cosine > 0.9, $"N{from} → N{to}: |cos(DiffMean, u)| = {cosine:F4}");
                }

        int agree = 0;
        var edited = new float[Width];
        for (int p = Train; p < Prompts; p++)
        {
            var direction = BaselineDirections.DiffMean(dictionary, IoiAttribute.Io, $"N{values[p].Value}", $"N{values[p].Counterfactual}");
            SubspaceEdit.Interchange(problem.Clean[0].Row(p), problem.Counterfactual[0].Row(p), direction, edited);
            var logits = Readout(Tensor.From(edited, 1, Width)).Row(0).ToArray();
            agree += Array.IndexOf(logits, logits.Max()) == values[p].Counterfactual ? 1 : 0;
        }
        // Its direction leans off u by the class means' noise, so it edits less exactly than DAS (0.95), far above random.
        Assert.True(agree > 0.8 * (Prompts - Train), $"DiffMean's edit accuracy {agree / (double)(Prompts - Train):F3}");
    }

    [Fact]
    public void TheFullSpaceIsTheCounterfactualPatchAndTrainingIsSeeded()
    {
        var problem = PlantedData().Problem;
        // P = I: x' = x_cf, so the loss is the counterfactual run's own entropy, its minimum.
        var identity = new Tensor(Width, Width);
        for (int c = 0; c < Width; c++) identity.Row(c)[c] = 1;
        Assert.Equal(1.0, EditAccuracy(problem, identity));
        double entropy = Enumerable.Range(Train, Prompts - Train)
            .Average(p => -problem.Target.Row(p).ToArray().Sum(t => t > 0 ? t * Math.Log(t) : 0));
        Assert.Equal(entropy, DasTrainer.ValidationLoss(problem, [identity]), 4);

        var start = BaselineDirections.Random(Width, 2, new DeterministicRandom(5));
        var options = new DasOptions(Dimensions: 2, MaxEpochs: 3, Seed: 11);
        var first = DasTrainer.Train(problem, [start], options).Subspaces[0];
        Assert.Equal(first.Span.ToArray(), DasTrainer.Train(problem, [start], options).Subspaces[0].Span.ToArray());
        var product = Gemm.Multiply(first, first, transB: true);
        Approx.Equal([1f, 0f, 0f, 1f], product.Span, 1e-5, "BBᵀ");
    }

    [Fact]
    public void CrossEntropyAndItsGradientAreExact()
    {
        // logits (0, ln 3) → softmax (1/4, 3/4); target (1/2, 1/2): H = −½ln¼ − ½ln¾, gradient (¼ − ½, ¾ − ½)/1.
        var logits = Tensor.From([0f, MathF.Log(3)], 1, 2);
        var target = Tensor.From([0.5f, 0.5f], 1, 2);
        var (loss, gradient) = DasTrainer.CrossEntropy(logits, target, [0]);
        Assert.Equal(-0.5 * Math.Log(0.25) - 0.5 * Math.Log(0.75), loss, 6);
        Approx.Equal([-0.25f, 0.25f], gradient.Span, 1e-6, "gradient");
    }
}
