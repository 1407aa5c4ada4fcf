namespace IoiBench;

/// <summary>
/// Progress of a long step: <see cref="Done"/> of <see cref="Total"/> units of <see cref="Stage"/>, with an optional
/// line of detail (e.g. the part in hand, or a throughput).
/// </summary>
public readonly record struct ProgressUpdate(string Stage, long Done, long Total, string? Detail = null);

/// <summary>
/// One stage made of steps of known sizes (e.g. forward passes over a prompt list, each many batches): every step
/// reports its own progress, and the stage advances by that step's share, so a stage of many passes shows as one
/// progress line whose detail names the step in hand. Steps run one after another.
/// </summary>
public sealed class StageProgress(IProgress<ProgressUpdate>? sink, string stage, long total)
{
    private long _before, _current;

    /// <summary>The progress of the next step, of <paramref name="units"/> units of the stage; the previous step counts as done.</summary>
    public IProgress<ProgressUpdate>? Step(string detail, long units)
    {
        _before += _current;
        _current = units;
        if (sink is null) return null;
        long start = _before;
        sink.Report(new ProgressUpdate(stage, start, total, detail));
        return new Relay(step => sink.Report(new ProgressUpdate(stage,
            start + (step.Total == 0 ? units : step.Done * units / step.Total), total, detail)));
    }

    /// <summary>Reports the stage complete.</summary>
    public void Finish() => sink?.Report(new ProgressUpdate(stage, total, total));

    /// <summary>Passes each update on synchronously (unlike <see cref="Progress{T}"/>, which posts them).</summary>
    private sealed class Relay(Action<ProgressUpdate> report) : IProgress<ProgressUpdate>
    {
        public void Report(ProgressUpdate value) => report(value);
    }
}
