namespace IoiBench.Model;

/// <summary>
/// Activations the forward pass exposes. Per head (or all of a layer's heads together): q, k, v (slices of the
/// attention input projections), z (the attention-weighted values, the head's output before W_O), and the attention
/// pattern row of a query position. Per layer, d_model wide, as TransformerLens names them: the residual stream
/// entering the layer (<see cref="ResidPre"/>), after its attention (<see cref="ResidMid"/>) and after its MLP
/// (<see cref="ResidPost"/>), and what the attention and the MLP add to it (<see cref="AttnOut"/>,
/// <see cref="MlpOut"/>).
/// </summary>
public enum HookPoint { Q, K, V, Z, Pattern, ResidPre, ResidMid, ResidPost, AttnOut, MlpOut }

public static class HookPoints
{
    /// <summary>Whether the hook is on the residual stream's width at a layer (no head).</summary>
    public static bool IsStream(this HookPoint point) => point >= HookPoint.ResidPre;

    /// <summary>q, k, v or z: one head's slice, or (<see cref="HeadHook.AllHeads"/>) every head's, concatenated.</summary>
    public static bool IsPerHead(this HookPoint point) => point <= HookPoint.Z;

    /// <summary>The name in sites files and node names: q, k, v, z, pattern, resid_pre, resid_mid, resid_post, attn_out, mlp_out.</summary>
    public static string SiteName(this HookPoint point) => point switch
    {
        HookPoint.ResidPre => "resid_pre",
        HookPoint.ResidMid => "resid_mid",
        HookPoint.ResidPost => "resid_post",
        HookPoint.AttnOut => "attn_out",
        HookPoint.MlpOut => "mlp_out",
        _ => point.ToString().ToLowerInvariant(),
    };

    /// <summary>The hook of a site name (<see cref="SiteName"/>), or null.</summary>
    public static HookPoint? FromSiteName(string name) =>
        Enum.GetValues<HookPoint>().Cast<HookPoint?>().FirstOrDefault(p => p!.Value.SiteName() == name);

    /// <summary>TransformerLens's hook name at a layer, e.g. blocks.6.hook_resid_pre, blocks.9.attn.hook_z.</summary>
    public static string TransformerLensName(this HookPoint point, int layer) => point.IsStream()
        ? $"blocks.{layer}.hook_{point.SiteName()}"
        : $"blocks.{layer}.attn.hook_{point.SiteName()}";
}

/// <summary>
/// A hook point at one attention head, or at a whole layer: <see cref="Head"/> is <see cref="AllHeads"/> for the
/// residual-stream hooks and for q/k/v/z of every head concatenated (head-major, as TransformerLens's hook_z flattened).
/// </summary>
public readonly record struct HeadHook(HookPoint Point, int Layer, int Head)
{
    public const int AllHeads = -1;

    public bool WholeLayer => Head == AllHeads;

    /// <summary>Every hook the model has: per layer, each head's q/k/v/z/pattern, all heads' q/k/v/z, the stream hooks.</summary>
    public static IEnumerable<HeadHook> Every(Gpt2Config config) =>
        from layer in Enumerable.Range(0, config.NLayer)
        from point in Enum.GetValues<HookPoint>()
        from head in point.IsStream() ? [AllHeads]
            : point.IsPerHead() ? Enumerable.Range(0, config.NHead).Append(AllHeads)
            : Enumerable.Range(0, config.NHead)
        select new HeadHook(point, layer, head);

    public override string ToString() => WholeLayer ? $"{Point.SiteName()}@{Layer}" : $"{Point.SiteName()}@{Layer}.{Head}";
}

/// <summary>Values read during a forward pass: row b holds prompt b's activation at <see cref="Positions"/>[b].</summary>
public sealed class ActivationCapture(HeadHook hook, int[] positions)
{
    public HeadHook Hook { get; } = hook;
    public int[] Positions { get; } = positions;
    /// <summary>d_head for one head's q/k/v/z, d_model for a whole layer's; the sequence length for a pattern row (keys after the query are 0).</summary>
    public int Width { get; internal set; }
    /// <summary>[batch, Width], filled by the forward pass.</summary>
    public float[] Values { get; internal set; } = [];
    public ReadOnlySpan<float> Row(int prompt) => Values.AsSpan(prompt * Width, Width);
}

/// <summary>Values written during a forward pass; everything downstream sees them.</summary>
public sealed record ActivationPatch(HeadHook Hook, int[] Positions, float[] Values);

/// <summary>The residual stream entering <see cref="Layer"/> at every position of every prompt.</summary>
public sealed class ResidualCapture(int layer)
{
    public int Layer { get; } = layer;
    /// <summary>[batch · seqLen, d_model], filled by the forward pass.</summary>
    public float[] Values { get; internal set; } = [];
}

/// <summary>A residual stream [batch · seqLen, d_model] that a forward pass starts from at the input of <see cref="Layer"/>.</summary>
public sealed record ResidualStart(int Layer, float[] Residual);

/// <summary>
/// The reads and overwrites for one forward pass, each at one position per prompt. Patches apply before
/// captures at the same hook, so a capture sees what the rest of the model saw. Pattern patches only use the
/// entries up to the query position (the causal mask drops the rest). A pass may also read the residual stream entering
/// a layer, and may start at a layer from a residual stream read earlier, skipping the layers before it.
/// </summary>
public sealed class HookSet
{
    private readonly List<ActivationPatch> _patches = [];
    private readonly List<ActivationCapture> _captures = [];
    private readonly List<ResidualCapture> _residualCaptures = [];

    public IReadOnlyList<ActivationPatch> Patches => _patches;
    public IReadOnlyList<ActivationCapture> Captures => _captures;
    public IReadOnlyList<ResidualCapture> ResidualCaptures => _residualCaptures;

    /// <summary>Whether any patch or capture is at <paramref name="point"/> of <paramref name="layer"/>.</summary>
    public bool Hooks(int layer, HookPoint point) =>
        _patches.Any(p => p.Hook.Layer == layer && p.Hook.Point == point) || _captures.Any(c => c.Hook.Layer == layer && c.Hook.Point == point);
    public ResidualStart? Start { get; private set; }

    public ActivationCapture Capture(HeadHook hook, int[] positions)
    {
        var capture = new ActivationCapture(hook, positions);
        _captures.Add(capture);
        return capture;
    }

    /// <summary>Overwrites the activation at <paramref name="hook"/>: <paramref name="values"/> is [batch, width].</summary>
    public void Patch(HeadHook hook, int[] positions, float[] values) => _patches.Add(new ActivationPatch(hook, positions, values));

    /// <summary>Reads the residual stream entering <paramref name="layer"/>.</summary>
    public ResidualCapture CaptureResidual(int layer)
    {
        var capture = new ResidualCapture(layer);
        _residualCaptures.Add(capture);
        return capture;
    }

    /// <summary>
    /// Starts the pass at the input of <paramref name="layer"/> from <paramref name="residual"/> [batch · seqLen, d_model]
    /// instead of embedding the tokens. Given the residual stream a pass over the same tokens read there, the result is
    /// that pass's: the layers before it would only recompute it. Hooks before the layer are then an error.
    /// </summary>
    public void StartAt(int layer, float[] residual) => Start = new ResidualStart(layer, residual);

    internal static int WidthOf(HeadHook hook, Gpt2Config config, int seqLen) =>
        hook.Point == HookPoint.Pattern ? seqLen : hook.WholeLayer ? config.DModel : config.DHead;

    internal void Validate(Gpt2Config config, int batch, int seqLen)
    {
        int first = Start?.Layer ?? 0;
        void NotBeforeStart(int layer, string what)
        {
            if (layer < first) throw new ArgumentException($"{what} is at layer {layer}, before layer {first}, where the pass starts.");
        }
        void Check(HeadHook hook, int[] positions, string kind)
        {
            bool headOk = hook.Point.IsStream() ? hook.WholeLayer
                : hook.Point == HookPoint.Pattern ? (uint)hook.Head < (uint)config.NHead
                : hook.WholeLayer || (uint)hook.Head < (uint)config.NHead;
            if ((uint)hook.Layer >= (uint)config.NLayer || !headOk)
                throw new ArgumentOutOfRangeException(nameof(hook), $"Hook {hook} is outside the model ({config.NLayer} layers × {config.NHead} heads).");
            NotBeforeStart(hook.Layer, $"{kind} {hook}");
            if (positions.Length != batch)
                throw new ArgumentException($"Hook {hook} has {positions.Length} positions for a batch of {batch}.");
            foreach (int p in positions)
                if ((uint)p >= (uint)seqLen)
                    throw new ArgumentOutOfRangeException(nameof(positions), $"Hook {hook}: position {p} is outside a sequence of {seqLen} tokens.");
        }
        void CheckLayer(int layer, string what)
        {
            if ((uint)layer >= (uint)config.NLayer)
                throw new ArgumentOutOfRangeException(nameof(layer), $"{what}: layer {layer} is outside the model's {config.NLayer} layers.");
            NotBeforeStart(layer, what);
        }
        if (Start is { } start)
        {
            CheckLayer(start.Layer, "The residual start");
            long expected = (long)batch * seqLen * config.DModel;
            if (start.Residual.Length != expected)
                throw new ArgumentException($"The residual start at layer {start.Layer} has {start.Residual.Length} values, expected {expected} (batch × seqLen × d_model).");
        }
        foreach (var capture in _residualCaptures) CheckLayer(capture.Layer, "A residual capture");
        foreach (var capture in _captures) Check(capture.Hook, capture.Positions, "Capture");
        foreach (var patch in _patches)
        {
            Check(patch.Hook, patch.Positions, "Patch");
            int expected = batch * WidthOf(patch.Hook, config, seqLen);
            if (patch.Values.Length != expected)
                throw new ArgumentException($"Patch at {patch.Hook} has {patch.Values.Length} values, expected {expected} (batch × width).");
        }
    }
}
