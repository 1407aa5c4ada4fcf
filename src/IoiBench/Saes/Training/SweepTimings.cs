using System.Diagnostics;

namespace IoiBench.Saes;

/// <summary>
/// Where a sweep's wall-clock time went, for timing reports: <see cref="Training"/> the epochs themselves (on the
/// CPU, everything the parallel SAE jobs did), <see cref="Saving"/> checkpoints and resumable states written between
/// epochs (GPU only: on the CPU they are part of the jobs), <see cref="Finishing"/> final files and test scores.
/// </summary>
public sealed class SweepTimings
{
    public Stopwatch Training { get; } = new();
    public Stopwatch Saving { get; } = new();
    public Stopwatch Finishing { get; } = new();
}
