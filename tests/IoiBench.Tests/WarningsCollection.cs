namespace IoiBench.Tests;

/// <summary>Tests that replace the process-wide <see cref="Warnings.Sink"/> run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class WarningsCollection
{
    public const string Name = "Warnings sink";
}
