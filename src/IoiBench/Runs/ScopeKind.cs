namespace IoiBench.Runs;

/// <summary>What a readout covers: one node, or every node of a cross-section together.</summary>
public enum ScopeKind { Node, CrossSection }
