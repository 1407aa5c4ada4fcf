namespace IoiBench.Tests;

/// <summary>
/// Tests that run SAE sweeps, which set the process-wide <see cref="Numerics.Gemm.Threads"/> to 1 while they train. A
/// product's last bits can depend on the thread count, so nothing else runs beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GemmThreadsCollection
{
    public const string Name = "Process-wide GEMM threads";
}
