using IoiBench.Cli.Commands;
using Spectre.Console.Testing;

namespace IoiBench.Tests.Cli;

[Collection(WarningsCollection.Name)]
public class ConsoleProgressTests
{
    [Fact]
    public void InALogEachStageIsOneLineWithAHeartbeatEveryThirtySeconds()
    {
        var log = new StringWriter();
        var now = TimeSpan.Zero;
        using (var progress = new ConsoleProgress(log, terminal: null, () => now))
        {
            // 100 quick updates of one stage: one line, at its end.
            for (int i = 1; i <= 100; i++)
            {
                now += TimeSpan.FromMilliseconds(10);
                progress.Report(new ProgressUpdate("edits", i, 100, $"step {i}"));
            }
            // A long stage: from its start, 90 s of updates every second give heartbeats at 30 and 60 s, then its end.
            progress.Report(new ProgressUpdate("training SAEs", 0, 90));
            for (int i = 1; i <= 90; i++)
            {
                now += TimeSpan.FromSeconds(1);
                progress.Report(new ProgressUpdate("training SAEs", i, 90));
            }
            // A stage that starts over (same name, fewer done) is a new stage.
            progress.Report(new ProgressUpdate("edits", 1, 1));
        }
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            "edits: 100/100 in 1.0s (step 100)",
            "training SAEs: 30/90 (33%) after 30.0s, 1.00/s, about 60.0s left",
            "training SAEs: 60/90 (67%) after 60.0s, 1.00/s, about 30.0s left",
            "training SAEs: 90/90 in 90.0s",
            "edits: 1/1 in 0.0s",
        ], lines);
    }

    [Fact]
    public void AStagesEndLineCarriesThePeakMemoryOfTheStage()
    {
        var log = new StringWriter();
        long peak = 0;
        using (var progress = new ConsoleProgress(log, terminal: null, () => TimeSpan.Zero, () => peak))
        {
            progress.Report(new ProgressUpdate("probing", 0, 2));
            peak = 3L << 29;
            progress.Report(new ProgressUpdate("probing", 2, 2));
        }
        Assert.Equal("probing: 2/2 in 0.0s, peak memory 1.50 GiB", log.ToString().Trim());
    }

    [Fact]
    public void OnATerminalEachStageIsALiveBarAndWarningsPrintAboveIt()
    {
        var terminal = new TestConsole().Interactive().EmitAnsiSequences();
        var now = TimeSpan.Zero;
        var before = Warnings.Sink;
        using (var progress = new ConsoleProgress(TextWriter.Null, terminal, () => now))
        {
            progress.Report(new ProgressUpdate("extracting activations (train)", 0, 4000));
            now += TimeSpan.FromSeconds(2);
            progress.Report(new ProgressUpdate("extracting activations (train)", 4000, 4000));
            Warnings.Emit("a cache entry was rebuilt");
            progress.Report(new ProgressUpdate("edits", 5, 10, "nm@z: supervised"));
        }
        Assert.Same(before, Warnings.Sink);
        string output = terminal.Output;
        Assert.Contains("extracting activations (train)", output);
        Assert.Contains("100%", output);
        Assert.Contains("edits", output);
        Assert.Contains("nm@z: supervised", output);
        Assert.Contains("ioibench: warning: a cache entry was rebuilt", output);
    }
}
