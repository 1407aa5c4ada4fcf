using IoiBench.Model;

namespace IoiBench.Tests.Model;

/// <summary>
/// The runtime against an independent PyTorch forward of the same random GPT-2 (float64 reference). The checks take
/// any <see cref="ITransformer"/> on the raw tiny weights: the GPU's runs them too (Gpu/CudaGpt2ModelTests).
/// </summary>
public class Gpt2ForwardTests
{
    private const float Tolerance = 2e-5f;
    internal static readonly Lazy<LoadedModel> Raw = new(() => ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Raw));

    [Fact]
    public void LogitsAtEveryPositionMatchTheReference() => LogitsMatchTheReference(Raw.Value.Model);

    [Theory]
    [InlineData(HookPoint.Q)]
    [InlineData(HookPoint.K)]
    [InlineData(HookPoint.V)]
    [InlineData(HookPoint.Z)]
    [InlineData(HookPoint.Pattern)]
    public void EveryHeadActivationMatchesTheReference(HookPoint point) => HeadActivationsMatchTheReference(Raw.Value.Model, point);

    [Theory]
    [InlineData("patch_z")]
    [InlineData("patch_q")]
    [InlineData("patch_v")]
    [InlineData("patch_pattern")]
    public void PatchesChangeEverythingDownstreamAsInTheReference(string patchName) => PatchMatchesTheReference(Raw.Value.Model, patchName);

    [Fact]
    public void APassStartedFromACapturedResidualStreamIsTheFullPass() => StartedPassMatchesTheReference(Raw.Value.Model);

    internal static void LogitsMatchTheReference(ITransformer model)
    {
        var reference = TinyReference.Instance.Value;
        var logits = model.Forward(reference.Tokens, reference.AllPositions);
        Approx.Equal(reference.Tensors["logits"].Span, logits.Span, Tolerance, "logits");
    }

    /// <summary>Every head's activation at every position, captured in one pass.</summary>
    internal static void HeadActivationsMatchTheReference(ITransformer model, HookPoint point)
    {
        var reference = TinyReference.Instance.Value;
        var cfg = model.Config;
        int batch = reference.Tokens.Batch, seqLen = reference.Tokens.SeqLen;
        var hooks = new HookSet();
        var captures = new Dictionary<(int Layer, int Head, int Pos), ActivationCapture>();
        for (int l = 0; l < cfg.NLayer; l++)
            for (int h = 0; h < cfg.NHead; h++)
                for (int pos = 0; pos < seqLen; pos++)
                    captures[(l, h, pos)] = hooks.Capture(new HeadHook(point, l, h), Enumerable.Repeat(pos, batch).ToArray());
        model.Forward(reference.Tokens, Enumerable.Repeat(seqLen - 1, batch).ToArray(), hooks);

        string name = point.ToString().ToLowerInvariant();
        foreach (var ((l, h, pos), capture) in captures)
        {
            var expected = reference.Tensors[$"{name}.{l}"];
            for (int b = 0; b < batch; b++)
            {
                // q/k/v/z are stored [B, T, H, dh]; patterns [B, H, T, T].
                var row = point == HookPoint.Pattern
                    ? expected.Span.Slice(((b * cfg.NHead + h) * seqLen + pos) * seqLen, seqLen)
                    : expected.Span.Slice(((b * seqLen + pos) * cfg.NHead + h) * cfg.DHead, cfg.DHead);
                Approx.Equal(row, capture.Row(b), Tolerance, $"{name}@{l}.{h} prompt {b} position {pos}");
            }
        }
    }

    /// <summary>A patch is read back as written, and the logits after it are the reference's; none before it move.</summary>
    internal static void PatchMatchesTheReference(ITransformer model, string patchName)
    {
        var reference = TinyReference.Instance.Value;
        var (hook, position) = reference.Patches[patchName];
        var hooks = new HookSet();
        var positions = Enumerable.Repeat(position, reference.Tokens.Batch).ToArray();
        hooks.Patch(hook, positions, reference.Tensors["values." + patchName].Span.ToArray());
        var readBack = hooks.Capture(hook, positions);

        var patched = model.Forward(reference.Tokens, reference.AllPositions, hooks);
        var clean = reference.Tensors["logits"].Span.ToArray();
        Approx.Equal(reference.Tensors["logits." + patchName].Span, patched.Span, Tolerance, patchName);
        Approx.Equal(reference.Tensors["values." + patchName].Span, readBack.Values, 0f, "capture after patch");

        // The patch must matter at its position or after it, and nowhere before it (causality).
        int vocab = model.Config.VocabSize;
        float MaxChange(int pos) => Enumerable.Range(0, vocab).Max(v => Math.Abs(patched.Buffer[pos * vocab + v] - clean[pos * vocab + v]));
        Assert.True(Enumerable.Range(position, reference.Tokens.SeqLen - position).Max(MaxChange) > 1e-3f, "the patch changed no logits");
        for (int pos = 0; pos < position; pos++) Assert.True(MaxChange(pos) < 1e-5f, $"position {pos} changed before the patch");
    }

    /// <summary>
    /// A clean pass reads the residual stream entering layer 1. Started there, a pass with the reference's layer-1 patch
    /// gives the reference's patched logits, and with no patch exactly the clean logits.
    /// </summary>
    internal static void StartedPassMatchesTheReference(ITransformer model)
    {
        var reference = TinyReference.Instance.Value;
        var clean = new HookSet();
        var entering = clean.CaptureResidual(1);
        var cleanLogits = model.Forward(reference.Tokens, reference.AllPositions, clean);
        Approx.Equal(reference.Tensors["logits"].Span, cleanLogits.Span, Tolerance, "logits of the pass that read the residual stream");

        var (hook, position) = reference.Patches["patch_q"];
        Assert.Equal(1, hook.Layer);
        var started = new HookSet();
        started.StartAt(1, entering.Values);
        started.Patch(hook, Enumerable.Repeat(position, reference.Tokens.Batch).ToArray(), reference.Tensors["values.patch_q"].Span.ToArray());
        var reread = started.CaptureResidual(1);
        var patched = model.Forward(reference.Tokens, reference.AllPositions, started);
        Approx.Equal(reference.Tensors["logits.patch_q"].Span, patched.Span, Tolerance, "patch_q in a pass started at layer 1");
        Assert.Equal(entering.Values, reread.Values);

        var unpatched = new HookSet();
        unpatched.StartAt(1, entering.Values);
        Assert.Equal(cleanLogits.Span.ToArray(), model.Forward(reference.Tokens, reference.AllPositions, unpatched).Span.ToArray());
    }

    [Fact]
    public void BadHooksAreRejectedBeforeRunning()
    {
        var reference = TinyReference.Instance.Value;
        var model = Raw.Value.Model;
        int[] last = Enumerable.Repeat(reference.Tokens.SeqLen - 1, reference.Tokens.Batch).ToArray();
        var outside = new HookSet();
        outside.Capture(new HeadHook(HookPoint.Z, 5, 0), last);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(reference.Tokens, last, outside));
        var wrongWidth = new HookSet();
        wrongWidth.Patch(new HeadHook(HookPoint.Q, 0, 0), last, new float[3]);
        Assert.Throws<ArgumentException>(() => model.Forward(reference.Tokens, last, wrongWidth));

        var residualLength = reference.Tokens.Ids.Length * model.Config.DModel;
        var beforeStart = new HookSet();
        beforeStart.StartAt(1, new float[residualLength]);
        beforeStart.Capture(new HeadHook(HookPoint.Z, 0, 0), last);
        Assert.Contains("before layer 1", Assert.Throws<ArgumentException>(() => model.Forward(reference.Tokens, last, beforeStart)).Message);
        var shortStart = new HookSet();
        shortStart.StartAt(1, new float[residualLength - 1]);
        Assert.Throws<ArgumentException>(() => model.Forward(reference.Tokens, last, shortStart));
        var pastTheEnd = new HookSet();
        pastTheEnd.CaptureResidual(model.Config.NLayer);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(reference.Tokens, last, pastTheEnd));
    }
}
