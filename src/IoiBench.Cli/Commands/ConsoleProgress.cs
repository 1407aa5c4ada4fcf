using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace IoiBench.Cli.Commands;

/// <summary>
/// Progress on standard error. On a terminal: a live Spectre.Console display with a bar per stage, its rate, elapsed
/// time and ETA (warnings print above it). In a log: one line when a stage ends, with the process's peak memory during
/// the stage, and a line at least every <see cref="HeartbeatInterval"/> while it runs, with the rate and ETA. Dispose it
/// before writing results to standard output.
/// </summary>
internal sealed class ConsoleProgress : IProgress<ProgressUpdate>, IDisposable
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly TextWriter _log;
    private readonly IAnsiConsole? _terminal;
    private readonly Func<TimeSpan> _now;
    private readonly Func<long?> _peakMemory;
    private Stage? _stage;
    private LiveDisplay? _display;
    private Action<string>? _previousWarnings;

    /// <summary>Progress on <paramref name="stderr"/>: live bars when it is the process's standard error on a terminal.</summary>
    public ConsoleProgress(TextWriter stderr)
        : this(stderr, ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
            : null, Clock(), PeakMemory.TakePeak)
    {
    }

    /// <summary>
    /// Live bars on <paramref name="terminal"/> when given, else log lines on <paramref name="log"/>; time from
    /// <paramref name="now"/>, and each ended stage's peak memory in bytes from <paramref name="peakMemory"/> (null: unknown).
    /// </summary>
    internal ConsoleProgress(TextWriter log, IAnsiConsole? terminal, Func<TimeSpan> now, Func<long?>? peakMemory = null)
    {
        _log = log;
        _terminal = terminal;
        _now = now;
        _peakMemory = peakMemory ?? (() => null);
    }

    private static Func<TimeSpan> Clock()
    {
        var watch = Stopwatch.StartNew();
        return () => watch.Elapsed;
    }

    /// <summary>One stage as the log sees it: when it started, when a line was last written, and whether its end was.</summary>
    private sealed class Stage(string name, TimeSpan started)
    {
        public string Name { get; } = name;
        public TimeSpan Started { get; } = started;
        public TimeSpan LastLine { get; set; } = started;
        public long Done { get; set; }
        public bool Ended { get; set; }
        public ProgressTask? Bar { get; set; }
    }

    public void Report(ProgressUpdate update)
    {
        lock (_lock)
        {
            var now = _now();
            // A new stage, or the same one starting over.
            if (_stage is null || _stage.Name != update.Stage || update.Done < _stage.Done)
            {
                if (_stage?.Bar is { } previous) previous.StopTask();
                _stage = new Stage(update.Stage, now);
                _peakMemory();   // the new stage's peak starts here
            }
            var stage = _stage;
            stage.Done = update.Done;
            bool finished = update.Done >= update.Total;
            if (_terminal is not null) Draw(stage, update, finished);
            else if (!stage.Ended && (finished || now - stage.LastLine >= HeartbeatInterval))
            {
                _log.WriteLine(LogLine(update, now - stage.Started, finished) +
                               (finished && _peakMemory() is { } peak ? $", peak memory {peak / (double)(1L << 30):F2} GiB" : ""));
                stage.LastLine = now;
                stage.Ended = finished;
            }
        }
    }

    /// <summary>"stage: done/total in 12.3s" at the end; while running, also the share, rate and time left.</summary>
    internal static string LogLine(ProgressUpdate update, TimeSpan elapsed, bool finished)
    {
        string detail = update.Detail is { Length: > 0 } d ? $" ({d})" : "";
        if (finished) return $"{update.Stage}: {update.Done}/{update.Total} in {Seconds(elapsed)}{detail}";
        double rate = update.Done / Math.Max(elapsed.TotalSeconds, 1e-9);
        string left = update.Done > 0 ? $", about {Seconds(TimeSpan.FromSeconds((update.Total - update.Done) / rate))} left" : "";
        return $"{update.Stage}: {update.Done}/{update.Total} ({100.0 * update.Done / Math.Max(update.Total, 1):F0}%) after {Seconds(elapsed)}, " +
               $"{Rate(rate)}{left}{detail}";
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds < 600
        ? t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + "s"
        : $"{(int)t.TotalMinutes} min {t.Seconds} s";

    private static string Rate(double perSecond) => perSecond >= 1000
        ? (perSecond / 1000).ToString("F1", CultureInfo.InvariantCulture) + "k/s"
        : perSecond.ToString(perSecond >= 10 ? "F0" : "F2", CultureInfo.InvariantCulture) + "/s";

    private void Draw(Stage stage, ProgressUpdate update, bool finished)
    {
        _display ??= StartDisplay();
        stage.Bar ??= _display.Context.AddTask(Markup.Escape(update.Stage), new ProgressTaskSettings { MaxValue = Math.Max(update.Total, 1) });
        stage.Bar.MaxValue = Math.Max(update.Total, 1);
        stage.Bar.Value = update.Done;
        stage.Bar.Description = Markup.Escape(update.Stage) + (update.Detail is { Length: > 0 } d ? $" [grey]{Markup.Escape(d)}[/]" : "");
        if (finished) stage.Bar.StopTask();
    }

    /// <summary>The live display runs on a thread of its own until disposed; warnings print through it, above the bars.</summary>
    private LiveDisplay StartDisplay()
    {
        var display = new LiveDisplay(_terminal!, _now);
        _previousWarnings = Warnings.Sink;
        Warnings.Sink = message => _terminal!.WriteLine($"ioibench: warning: {message}");
        return display;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_display is null) return;
            _display.Dispose();
            _display = null;
            Warnings.Sink = _previousWarnings!;
        }
    }

    private sealed class LiveDisplay : IDisposable
    {
        private readonly ManualResetEventSlim _stop = new();
        private readonly Thread _thread;

        public ProgressContext Context { get; private set; } = null!;

        public LiveDisplay(IAnsiConsole console, Func<TimeSpan> now)
        {
            using var ready = new ManualResetEventSlim();
            var progress = new Progress(console, new ElapsedTimeProvider(now)) { AutoClear = false, HideCompleted = false }
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RateColumn(),
                    new ElapsedTimeColumn(), new RemainingTimeColumn());
            _thread = new Thread(() => progress.Start(context =>
            {
                Context = context;
                ready.Set();
                _stop.Wait();
                context.Refresh();
            })) { IsBackground = true, Name = "progress display" };
            _thread.Start();
            ready.Wait();
        }

        public void Dispose()
        {
            _stop.Set();
            _thread.Join();
            _stop.Dispose();
        }
    }

    /// <summary>Units per second of a bar (epochs, prompts, selections: whatever its stage counts).</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed ? Rate(speed) : "", new Style(Color.Grey));
    }

    /// <summary>The display's clock: the progress's own, so tests can drive both.</summary>
    private sealed class ElapsedTimeProvider(Func<TimeSpan> now) : TimeProvider
    {
        private readonly DateTimeOffset _origin = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _origin + now();
    }
}
