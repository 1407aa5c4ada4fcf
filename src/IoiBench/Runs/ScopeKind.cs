namespace IoiBench.Runs;

/// <summary>What a readout covers: one node, or every node of a cross-section together.</summary>
public enum ScopeKind { Node, CrossSection }

/// <summary>A scope kind's name in run.json and the CSVs, and back.</summary>
public static class ScopeKinds
{
    public static string Name(ScopeKind kind) => kind == ScopeKind.Node ? "node" : "cross_section";

    public static ScopeKind Parse(string name) => name switch
    {
        "node" => ScopeKind.Node,
        "cross_section" => ScopeKind.CrossSection,
        _ => throw new FormatException($"unknown scope_kind '{name}'."),
    };
}
