using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Activations;

/// <summary>Which prompt of an example an activation was read from: the clean prompt or one counterfactual.</summary>
public enum PromptVariant { Clean, CounterfactualIo, CounterfactualS, CounterfactualPos }

public static class PromptVariants
{
    public static PromptVariant Of(IoiAttribute attribute) => attribute switch
    {
        IoiAttribute.Io => PromptVariant.CounterfactualIo,
        IoiAttribute.S => PromptVariant.CounterfactualS,
        _ => PromptVariant.CounterfactualPos,
    };

    public static TokenizedPrompt Select(IoiExample example, PromptVariant variant) =>
        variant == PromptVariant.Clean ? example.Clean : example.Counterfactual((IoiAttribute)(variant - 1));

    public static string Key(PromptVariant variant, SiteNode node) => variant switch
    {
        PromptVariant.Clean => "clean",
        PromptVariant.CounterfactualIo => "cf-io",
        PromptVariant.CounterfactualS => "cf-s",
        _ => "cf-pos",
    } + "/" + node;
}

/// <summary>
/// Site activations for one split: for every node and prompt variant a [prompts, d_head] tensor, each row read at
/// that prompt's own semantic position (a counterfactual's position for a counterfactual).
/// </summary>
public sealed class SiteActivations(IReadOnlyList<SiteNode> nodes, int prompts, IReadOnlyDictionary<string, Tensor> tensors)
{
    public IReadOnlyList<SiteNode> Nodes { get; } = nodes;
    public int Prompts { get; } = prompts;
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;

    public Tensor Get(SiteNode node, PromptVariant variant) =>
        Tensors.TryGetValue(PromptVariants.Key(variant, node), out var t) ? t : throw new KeyNotFoundException($"No activations for {node} ({variant}).");
}
