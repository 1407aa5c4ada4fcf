using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Tests.Model;

/// <summary>
/// The backward pass against PyTorch's autograd on the tiny random GPT-2 (float64 reference, tools/make_tiny_gpt2.py):
/// L = Σ_b CE(target_b, softmax(logits[b, T−1])), whose gradient on the logits is softmax(logits) − target. Also against
/// central finite differences of <see cref="Gpt2Model"/>'s own forward, on the processed weights.
/// </summary>
public class Gpt2BackpropTests
{
    private const double Relative = 1e-4;

    /// <summary>
    /// Each hook's gradient, whole: ‖g − g_ref‖ ≤ 1e-4·‖g_ref‖, and every entry within 1e-4·(1 + |g_ref|). Where the
    /// loss cannot see the activation (a position after which only its own stream reaches the last), exactly 0.
    /// </summary>
    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += Math.Pow(expected[i] - actual[i], 2);
            norm += Math.Pow(expected[i], 2);
        }
        if (norm == 0)
        {
            Assert.All(actual.ToArray(), g => Assert.Equal(0f, g));
            return;
        }
        Assert.True(Math.Sqrt(error) <= Relative * Math.Sqrt(norm), $"{what}: relative error {Math.Sqrt(error / norm):g3}");
        Approx.Equal(expected, actual, Relative, what);
    }

    /// <summary>softmax(logits) − target, row by row.</summary>
    private static Tensor CrossEntropyGradient(Tensor logits, ReadOnlySpan<float> target)
    {
        var gradient = logits.Clone();
        for (int r = 0; r < gradient.Shape[0]; r++)
        {
            TransformerOps.SoftMax(gradient.Row(r), gradient.Row(r));
            System.Numerics.Tensors.TensorPrimitives.Subtract(gradient.Row(r), target.Slice(r * gradient.Shape[1], gradient.Shape[1]), gradient.Row(r));
        }
        return gradient;
    }

    private static int[] Last(TinyReference reference) => Enumerable.Repeat(reference.Tokens.SeqLen - 1, reference.Tokens.Batch).ToArray();

    /// <summary>Captures at every position of <paramref name="hook"/>, keyed by position.</summary>
    private static Dictionary<int, ActivationCapture> EveryPosition(HookSet hooks, HeadHook hook, TinyReference reference) =>
        Enumerable.Range(0, reference.Tokens.SeqLen)
            .ToDictionary(pos => pos, pos => hooks.Capture(hook, Enumerable.Repeat(pos, reference.Tokens.Batch).ToArray()));

    /// <summary>The reference's [B, T, H, dh] or [B, T, d] tensor at one position: [B, width] for one head or the whole layer.</summary>
    private static float[] Column(Tensor tensor, TinyReference reference, int position, int offset, int width)
    {
        int batch = reference.Tokens.Batch, seqLen = reference.Tokens.SeqLen, rowWidth = tensor.Length / (batch * seqLen);
        var values = new float[batch * width];
        for (int b = 0; b < batch; b++)
            tensor.Span.Slice((b * seqLen + position) * rowWidth + offset, width).CopyTo(values.AsSpan(b * width, width));
        return values;
    }

    [Fact]
    public void TheForwardIsTheRuntimesForward()
    {
        var reference = TinyReference.Instance.Value;
        var weights = Gpt2ForwardTests.Raw.Value.Model.Weights;
        var pass = new Gpt2Backprop(weights).Forward(reference.Tokens, reference.AllPositions, new HookSet());
        Approx.Equal(reference.Tensors["logits"].Span, pass.Logits.Span, 2e-5, "logits");

        var (hook, position) = reference.Patches["patch_z"];
        var hooks = new HookSet();
        hooks.Patch(hook, Enumerable.Repeat(position, reference.Tokens.Batch).ToArray(), reference.Tensors["values.patch_z"].Span.ToArray());
        var patched = new Gpt2Backprop(weights).Forward(reference.Tokens, reference.AllPositions, hooks);
        Approx.Equal(reference.Tensors["logits.patch_z"].Span, patched.Logits.Span, 2e-5, "logits after patch_z");
    }

    public static TheoryData<HookPoint> HeadHooks => new(HookPoint.Q, HookPoint.K, HookPoint.V, HookPoint.Z);

    [Theory]
    [MemberData(nameof(HeadHooks))]
    public void EveryHeadsGradientAtEveryPositionIsAutograds(HookPoint point)
    {
        var reference = TinyReference.Instance.Value;
        var weights = Gpt2ForwardTests.Raw.Value.Model.Weights;
        var cfg = weights.Config;
        var hooks = new HookSet();
        var captures = (from l in Enumerable.Range(0, cfg.NLayer) from h in Enumerable.Range(0, cfg.NHead)
                        select (l, h, EveryPosition(hooks, new HeadHook(point, l, h), reference))).ToList();
        var pass = new Gpt2Backprop(weights).Forward(reference.Tokens, Last(reference), hooks);
        var gradients = pass.Backward(CrossEntropyGradient(pass.Logits, reference.Tensors["grad.target"].Span));

        foreach (var (l, h, byPosition) in captures)
            foreach (var (pos, capture) in byPosition)
                Close(Column(reference.Tensors[$"grad.{point.SiteName()}.{l}"], reference, pos, h * cfg.DHead, cfg.DHead),
                    gradients.Captures[capture], $"{point.SiteName()}@{l}.{h} position {pos}");
    }

    [Theory]
    [MemberData(nameof(Gpt2ForwardTests.WholeLayerHooks), MemberType = typeof(Gpt2ForwardTests))]
    public void EveryWholeLayerGradientAtEveryPositionIsAutograds(HookPoint point)
    {
        var reference = TinyReference.Instance.Value;
        var weights = Gpt2ForwardTests.Raw.Value.Model.Weights;
        var hooks = new HookSet();
        var captures = Enumerable.Range(0, weights.Config.NLayer)
            .Select(l => (l, EveryPosition(hooks, new HeadHook(point, l, HeadHook.AllHeads), reference))).ToList();
        var pass = new Gpt2Backprop(weights).Forward(reference.Tokens, Last(reference), hooks);
        var gradients = pass.Backward(CrossEntropyGradient(pass.Logits, reference.Tensors["grad.target"].Span));

        foreach (var (l, byPosition) in captures)
            foreach (var (pos, capture) in byPosition)
                Close(Column(reference.Tensors[$"grad.{point.SiteName()}.{l}"], reference, pos, 0, weights.Config.DModel),
                    gradients.Captures[capture], $"{point.SiteName()}@{l} position {pos}");
    }

    /// <summary>
    /// With patch_z's patch: the gradient with respect to the patched values is autograd's, and nothing flows back
    /// through them: the residual stream entering layer 0 has autograd's gradient under the patch.
    /// </summary>
    [Fact]
    public void APatchedValueTakesTheGradientAndPassesNoneBack()
    {
        var reference = TinyReference.Instance.Value;
        var weights = Gpt2ForwardTests.Raw.Value.Model.Weights;
        var (hook, position) = reference.Patches["patch_z"];
        var hooks = new HookSet();
        hooks.Patch(hook, Enumerable.Repeat(position, reference.Tokens.Batch).ToArray(), reference.Tensors["values.patch_z"].Span.ToArray());
        var entering = EveryPosition(hooks, new HeadHook(HookPoint.ResidPre, 0, HeadHook.AllHeads), reference);
        var pass = new Gpt2Backprop(weights).Forward(reference.Tokens, Last(reference), hooks);
        var gradients = pass.Backward(CrossEntropyGradient(pass.Logits, reference.Tensors["grad.target"].Span));

        Close(reference.Tensors["grad.patch_z.values"].Span, gradients.Patches.Values.Single(), "the patched values");
        foreach (var (pos, capture) in entering)
            Close(Column(reference.Tensors["grad.patch_z.resid_pre.0"], reference, pos, 0, weights.Config.DModel),
                gradients.Captures[capture], $"resid_pre@0 position {pos} under the patch");
    }

    /// <summary>
    /// On the processed weights (folded LayerNorms, an unembedding bias), two patches at once in a pass started at
    /// layer 1 (a head's query at the last position, the stream at an earlier one, which its keys and values read):
    /// each patched value's gradient is the central finite difference of <see cref="Gpt2Model"/>'s loss.
    /// </summary>
    [Fact]
    public void PatchGradientsAreFiniteDifferencesOfTheForward()
    {
        var reference = TinyReference.Instance.Value;
        var model = ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Processed).Model;
        int batch = reference.Tokens.Batch;
        int[] last = Last(reference);
        var clean = new HookSet();
        var entering = clean.CaptureResidual(1);
        var query = clean.Capture(new HeadHook(HookPoint.Q, 1, 1), last);
        var stream = clean.Capture(new HeadHook(HookPoint.ResidPre, 1, HeadHook.AllHeads), Enumerable.Repeat(6, batch).ToArray());
        model.Forward(reference.Tokens, last, clean);
        var target = reference.Tensors["grad.target"].Span.ToArray();

        HookSet Patched(float[] queryValues, float[] streamValues)
        {
            var hooks = new HookSet();
            hooks.StartAt(1, entering.Values);
            hooks.Patch(query.Hook, query.Positions, queryValues);
            hooks.Patch(stream.Hook, stream.Positions, streamValues);
            return hooks;
        }
        double Loss(float[] queryValues, float[] streamValues)
        {
            var logits = model.Forward(reference.Tokens, last, Patched(queryValues, streamValues));
            double loss = 0;
            for (int r = 0; r < batch; r++)
            {
                var row = logits.Row(r);
                double max = row.ToArray().Max(), logSum = Math.Log(row.ToArray().Sum(x => Math.Exp(x - max))) + max;
                for (int v = 0; v < row.Length; v++) loss -= target[r * row.Length + v] * (row[v] - logSum);
            }
            return loss;
        }

        var queryValues = query.Values.Select((x, i) => x + 0.3f * MathF.Sin(i)).ToArray();
        var streamValues = stream.Values.Select((x, i) => x + 0.3f * MathF.Cos(i)).ToArray();
        var hooksAtPoint = Patched(queryValues, streamValues);
        var pass = new Gpt2Backprop(model.Weights).Forward(reference.Tokens, last, hooksAtPoint);
        var gradients = pass.Backward(CrossEntropyGradient(pass.Logits, target));
        const float step = 1e-2f;
        foreach (var (values, patch) in new[] { (queryValues, hooksAtPoint.Patches[0]), (streamValues, hooksAtPoint.Patches[1]) })
            foreach (int i in new[] { 0, 3, values.Length / 2, values.Length - 1 })
            {
                float original = values[i];
                values[i] = original + step;
                double up = Loss(queryValues, streamValues);
                values[i] = original - step;
                double down = Loss(queryValues, streamValues);
                values[i] = original;
                double numeric = (up - down) / (2 * step), analytic = gradients.Patches[patch][i];
                Assert.True(Math.Abs(numeric - analytic) <= 2e-3 + 1e-2 * Math.Abs(numeric),
                    $"{patch.Hook} value {i}: finite difference {numeric:g5}, backward {analytic:g5}");
            }
    }
}
