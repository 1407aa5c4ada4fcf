using IoiBench.Model;
using IoiBench.Prompts;

namespace IoiBench.Sites;

/// <summary>
/// A site: an activation vector at one semantic position. One head's q, k, v or z is <c>hook@L.H@position</c>
/// (e.g. <c>z@9.9@end</c>, <c>k@10.0@s1</c>); a whole layer's is <c>hook@L@position</c>: the residual stream
/// (<c>resid_pre@6@end</c>, <c>resid_mid</c>, <c>resid_post</c>), the attention's or the MLP's output (<c>attn_out</c>,
/// <c>mlp_out</c>), or q, k, v or z of every head concatenated (<c>z@9@end</c>, as SAELens's hook_z SAEs read it).
/// </summary>
public sealed record SiteNode(HookPoint Hook, int Layer, int Head, SemanticPosition Position)
{
    public HeadHook HeadHook => new(Hook, Layer, Head);

    /// <summary>The vector's size in a model: d_head for one head, d_model for a whole layer.</summary>
    public int Width(Gpt2Config config) => HookSet.WidthOf(HeadHook, config, seqLen: 0);

    public override string ToString() => $"{HeadHook}@{Position.Name()}";

    private static readonly HookPoint[] SiteHooks =
        [HookPoint.Q, HookPoint.K, HookPoint.V, HookPoint.Z, HookPoint.ResidPre, HookPoint.ResidMid, HookPoint.ResidPost, HookPoint.AttnOut, HookPoint.MlpOut];

    public static SiteNode Parse(string text)
    {
        var parts = text.Split('@');
        if (parts.Length != 3)
            throw new InvalidInputException($"'{text}' is not a site; write hook@LAYER.HEAD@position (e.g. z@9.9@end) or hook@LAYER@position " +
                                            "(e.g. resid_pre@6@end).");
        if (HookPoints.FromSiteName(parts[0]) is not { } hook || !SiteHooks.Contains(hook))
            throw new InvalidInputException($"'{text}': unknown hook '{parts[0]}' ({string.Join(", ", SiteHooks.Select(h => h.SiteName()))}).");
        var position = SemanticPositionNames.Parse(parts[2]);
        if (!parts[1].Contains('.'))
        {
            if (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer))
                throw new InvalidInputException($"'{text}': '{parts[1]}' is not a layer.");
            return new SiteNode(hook, layer, HeadHook.AllHeads, position);
        }
        if (hook.IsStream())
            throw new InvalidInputException($"'{text}': {parts[0]} is a whole layer's; write {parts[0]}@LAYER@{parts[2]}, without a head.");
        var head = Behaviour.HeadRef.Parse(parts[1]);
        return new SiteNode(hook, head.Layer, head.Head, position);
    }
}

/// <summary>Nodes edited together, and the attribute the edits change there.</summary>
public sealed record CrossSection(string Name, string Label, IoiAttribute Attribute, IReadOnlyList<SiteNode> Nodes);
