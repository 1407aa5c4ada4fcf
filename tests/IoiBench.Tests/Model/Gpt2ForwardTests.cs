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

    /// <summary>The hooks read at a whole layer: the residual-stream ones and every head's z concatenated.</summary>
    public static TheoryData<HookPoint> WholeLayerHooks =>
        new(HookPoint.ResidPre, HookPoint.ResidMid, HookPoint.ResidPost, HookPoint.AttnOut, HookPoint.MlpOut, HookPoint.Z);

    [Theory]
    [MemberData(nameof(WholeLayerHooks))]
    public void EveryWholeLayerActivationMatchesTheReference(HookPoint point) => LayerActivationsMatchTheReference(Raw.Value.Model, point);

    /// <summary>The reference's patches: one head's q, v, z and pattern row, and whole-layer vectors.</summary>
    public static TheoryData<string> PatchNames =>
    [
        "patch_z", "patch_q", "patch_v", "patch_pattern",
        "patch_resid_pre", "patch_resid_mid", "patch_resid_post", "patch_attn_out", "patch_mlp_out", "patch_z_all",
    ];

    [Theory]
    [MemberData(nameof(PatchNames))]
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

    /// <summary>
    /// A whole layer's vectors at every position, captured in one pass: the residual-stream hooks ([B, T, d] in the
    /// reference) and z of every head concatenated (the reference's [B, T, H, dh] z, head-major).
    /// </summary>
    internal static void LayerActivationsMatchTheReference(ITransformer model, HookPoint point)
    {
        var reference = TinyReference.Instance.Value;
        var cfg = model.Config;
        int batch = reference.Tokens.Batch, seqLen = reference.Tokens.SeqLen, d = cfg.DModel;
        var hooks = new HookSet();
        var captures = new Dictionary<(int Layer, int Pos), ActivationCapture>();
        for (int l = 0; l < cfg.NLayer; l++)
            for (int pos = 0; pos < seqLen; pos++)
                captures[(l, pos)] = hooks.Capture(new HeadHook(point, l, HeadHook.AllHeads), Enumerable.Repeat(pos, batch).ToArray());
        model.Forward(reference.Tokens, Enumerable.Repeat(seqLen - 1, batch).ToArray(), hooks);

        foreach (var ((l, pos), capture) in captures)
        {
            Assert.Equal(d, capture.Width);
            var expected = reference.Tensors[$"{point.SiteName()}.{l}"];
            for (int b = 0; b < batch; b++)
                Approx.Equal(expected.Span.Slice((b * seqLen + pos) * d, d), capture.Row(b), Tolerance, $"{point.SiteName()}@{l} prompt {b} position {pos}");
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
    /// A clean pass reads the residual stream entering layer 1. Started there, a pass with each of the reference's
    /// layer-1 patches gives the reference's patched logits, and with no patch exactly the clean logits.
    /// </summary>
    internal static void StartedPassMatchesTheReference(ITransformer model)
    {
        var reference = TinyReference.Instance.Value;
        var clean = new HookSet();
        var entering = clean.CaptureResidual(1);
        var cleanLogits = model.Forward(reference.Tokens, reference.AllPositions, clean);
        Approx.Equal(reference.Tensors["logits"].Span, cleanLogits.Span, Tolerance, "logits of the pass that read the residual stream");

        // Every reference patch at layer 1: a head's q, the residual stream entering it, the attention's output, all heads' z.
        foreach (string name in new[] { "patch_q", "patch_resid_pre", "patch_attn_out", "patch_z_all" })
        {
            var (hook, position) = reference.Patches[name];
            Assert.Equal(1, hook.Layer);
            var started = new HookSet();
            started.StartAt(1, entering.Values);
            started.Patch(hook, Enumerable.Repeat(position, reference.Tokens.Batch).ToArray(), reference.Tensors["values." + name].Span.ToArray());
            var reread = started.CaptureResidual(1);
            var patched = model.Forward(reference.Tokens, reference.AllPositions, started);
            Approx.Equal(reference.Tensors["logits." + name].Span, patched.Span, Tolerance, $"{name} in a pass started at layer 1");
            Assert.Equal(entering.Values, reread.Values);
        }

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
