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

/// <summary>
/// The reads and overwrites for one forward pass, each at one position per prompt. Patches apply before
/// captures at the same hook, so a capture sees what the rest of the model saw. Pattern patches only use the
/// entries up to the query position (the causal mask drops the rest).
/// </summary>
public sealed class HookSet
{
    private readonly List<ActivationPatch> _patches = [];
    private readonly List<ActivationCapture> _captures = [];

    public IReadOnlyList<ActivationPatch> Patches => _patches;
    public IReadOnlyList<ActivationCapture> Captures => _captures;

    public ActivationCapture Capture(HeadHook hook, int[] positions)
    {
        var capture = new ActivationCapture(hook, positions);
        _captures.Add(capture);
        return capture;
    }

    /// <summary>Overwrites the activation at <paramref name="hook"/>: <paramref name="values"/> is [batch, width].</summary>
    public void Patch(HeadHook hook, int[] positions, float[] values) => _patches.Add(new ActivationPatch(hook, positions, values));

    internal static int WidthOf(HookPoint point, Gpt2Config config, int seqLen) => point == HookPoint.Pattern ? seqLen : config.DHead;

    internal void Validate(Gpt2Config config, int batch, int seqLen)
    {
        void Check(HeadHook hook, int[] positions)
        {
            if ((uint)hook.Layer >= (uint)config.NLayer || (uint)hook.Head >= (uint)config.NHead)
                throw new ArgumentOutOfRangeException(nameof(hook), $"Hook {hook} is outside the model ({config.NLayer} layers × {config.NHead} heads).");
            if (positions.Length != batch)
                throw new ArgumentException($"Hook {hook} has {positions.Length} positions for a batch of {batch}.");
            foreach (int p in positions)
                if ((uint)p >= (uint)seqLen)
                    throw new ArgumentOutOfRangeException(nameof(positions), $"Hook {hook}: position {p} is outside a sequence of {seqLen} tokens.");
        }
        foreach (var capture in _captures) Check(capture.Hook, capture.Positions);
        foreach (var patch in _patches)
        {
            Check(patch.Hook, patch.Positions);
            int expected = batch * WidthOf(patch.Hook.Point, config, seqLen);
            if (patch.Values.Length != expected)
                throw new ArgumentException($"Patch at {patch.Hook} has {patch.Values.Length} values, expected {expected} (batch × width).");
        }
    }
}
