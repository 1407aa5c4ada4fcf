using System.Diagnostics;

namespace IoiBench.Saes;

/// <summary>
/// Paces the resumable training states of one SAE, or of a GPU group that writes them together: every 30 s, but never
/// so often that writing them takes more than a tenth of the time. The decision for an epoch is taken once and kept,
/// so every SAE of a group agrees.
/// </summary>
internal sealed class StateClock
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();
    private readonly Func<TimeSpan> _now;
    private TimeSpan _since, _lastWrite;
    private int _decidedEpoch = -1;
    private bool _decision;

    public StateClock()
    {
        var watch = Stopwatch.StartNew();
        _now = () => watch.Elapsed;
    }

    /// <summary>A clock reading time from <paramref name="now"/> (for tests).</summary>
    internal StateClock(Func<TimeSpan> now)
    {
        _now = now;
        _since = now();
    }

    public bool DueAt(int epoch)
    {
        lock (_lock)
        {
            if (epoch == _decidedEpoch) return _decision;
            _decidedEpoch = epoch;
            var now = _now();
            _decision = now - _since >= TimeSpan.FromTicks(Math.Max(Interval.Ticks, 10 * _lastWrite.Ticks));
            if (_decision) _since = now;
            return _decision;
        }
    }

    /// <summary>How long the last states took to write (wall-clock).</summary>
    public void Written(TimeSpan took)
    {
        lock (_lock) _lastWrite = took;
    }
}
