namespace IoiBench.Cli.Commands;

/// <summary>
/// A progress bar on standard error: redrawn in place on a terminal, one line per finished stage otherwise
/// (so logs stay readable).
/// </summary>
internal sealed class ConsoleProgress(TextWriter stderr) : IProgress<ProgressUpdate>
{
    private readonly Lock _lock = new();
    private readonly bool _interactive = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private string? _stage;
    private long _lastDrawMs = -1000;
    private bool _finishedDrawn;
    private long _lastDone;

    public void Report(ProgressUpdate update)
    {
        lock (_lock) Draw(update);
    }

    private void Draw(ProgressUpdate update)
    {
        // A new stage, or the same stage starting over (e.g. extracting train, then test).
        if (update.Stage != _stage || update.Done < _lastDone)
        {
            _stage = update.Stage;
            _clock.Restart();
            _lastDrawMs = -1000;
            _finishedDrawn = false;
        }
        _lastDone = update.Done;
        bool finished = update.Done >= update.Total;
        if (finished && _finishedDrawn) return;
        _finishedDrawn |= finished;
        if (_interactive && (finished || _clock.ElapsedMilliseconds - _lastDrawMs >= 100))
        {
            _lastDrawMs = _clock.ElapsedMilliseconds;
            double fraction = update.Total == 0 ? 1 : (double)update.Done / update.Total;
            int filled = (int)(fraction * 30);
            stderr.Write($"\r{update.Stage,-28} [{new string('#', filled)}{new string('.', 30 - filled)}] {update.Done}/{update.Total} {_clock.Elapsed.TotalSeconds,6:F1}s {update.Detail}");
            if (finished) stderr.WriteLine();
        }
        else if (!_interactive && finished)
            stderr.WriteLine($"{update.Stage}: {update.Done}/{update.Total} in {_clock.Elapsed.TotalSeconds:F1}s {update.Detail}".TrimEnd());
    }
}
