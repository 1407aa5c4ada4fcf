namespace IoiBench.Model;

/// <summary>
/// Per-head activations the forward pass exposes: q, k, v (each head's slice of the attention input
/// projections), z (the attention-weighted values, the head's output before W_O) and the attention pattern
/// row of a query position.
/// </summary>
public enum HookPoint { Q, K, V, Z, Pattern }

/// <summary>A hook point at one attention head.</summary>
public readonly record struct HeadHook(HookPoint Point, int Layer, int Head)
{
    public override string ToString() => $"{Point.ToString().ToLowerInvariant()}@{Layer}.{Head}";
}

/// <summary>Values read during a forward pass: row b holds prompt b's activation at <see cref="Positions"/>[b].</summary>
public sealed class ActivationCapture(HeadHook hook, int[] positions)
{
    public HeadHook Hook { get; } = hook;
    public int[] Positions { get; } = positions;
    /// <summary>d_head for q/k/v/z; the sequence length for a pattern row (keys after the query are 0).</summary>
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

    internal static int WidthOf(HookPoint point, Gpt2Config config, int seqLen) => point == HookPoint.Pattern ? seqLen : config.DHead;

    internal void Validate(Gpt2Config config, int batch, int seqLen)
    {
        int first = Start?.Layer ?? 0;
        void NotBeforeStart(int layer, string what)
        {
            if (layer < first) throw new ArgumentException($"{what} is at layer {layer}, before layer {first}, where the pass starts.");
        }
        void Check(HeadHook hook, int[] positions, string kind)
        {
            if ((uint)hook.Layer >= (uint)config.NLayer || (uint)hook.Head >= (uint)config.NHead)
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
            int expected = batch * WidthOf(patch.Hook.Point, config, seqLen);
            if (patch.Values.Length != expected)
                throw new ArgumentException($"Patch at {patch.Hook} has {patch.Values.Length} values, expected {expected} (batch × width).");
        }
    }
}
