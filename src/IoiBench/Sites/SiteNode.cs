using IoiBench.Model;
using IoiBench.Prompts;

namespace IoiBench.Sites;

/// <summary>
/// A site: one head's q, k, v or z vector at one semantic position, written <c>hook@L.H@position</c>
/// (e.g. <c>z@9.9@end</c>, <c>k@10.0@s1</c>).
/// </summary>
public sealed record SiteNode(HookPoint Hook, int Layer, int Head, SemanticPosition Position)
{
    public HeadHook HeadHook => new(Hook, Layer, Head);

    public override string ToString() => $"{Hook.ToString().ToLowerInvariant()}@{Layer}.{Head}@{Position.Name()}";

    public static SiteNode Parse(string text)
    {
        var parts = text.Split('@');
        if (parts.Length != 3)
            throw new InvalidInputException($"'{text}' is not a site; write hook@LAYER.HEAD@position, e.g. z@9.9@end.");
        var hook = parts[0] switch
        {
            "q" => HookPoint.Q,
            "k" => HookPoint.K,
            "v" => HookPoint.V,
            "z" => HookPoint.Z,
            _ => throw new InvalidInputException($"'{text}': unknown hook '{parts[0]}' (q, k, v or z)."),
        };
        var head = Behaviour.HeadRef.Parse(parts[1]);
        return new SiteNode(hook, head.Layer, head.Head, SemanticPositionNames.Parse(parts[2]));
    }
}

/// <summary>Nodes edited together, and the attribute the edits change there.</summary>
public sealed record CrossSection(string Name, string Label, IoiAttribute Attribute, IReadOnlyList<SiteNode> Nodes);
