using IoiBench.Behaviour;
using IoiBench.Prompts;

namespace IoiBench.Circuit;

/// <summary>Where a head's output is mean-ablated: at every position, or at one semantic position.</summary>
public enum AblationScope { All, Io, S1, S1Plus1, S2, End }

public static class AblationScopes
{
    public static SemanticPosition? Position(this AblationScope scope) => scope == AblationScope.All ? null : (SemanticPosition)(scope - 1);
    public static string Name(this AblationScope scope) => scope.Position() is { } p ? p.Name() : "all";
}

/// <summary>The attention readouts that tell IOI head classes apart (mean over prompts).</summary>
public sealed record AttentionProfile(double EndToIo, double EndToS1, double EndToS2, double S2ToS1, double S2ToS1Plus1);

/// <summary>What the analysis found about one head.</summary>
public sealed record HeadReport(HeadRef Head, IReadOnlyDictionary<AblationScope, double> LogitDiffDrop, AttentionProfile Attention)
{
    public string? Class { get; init; }
}
