using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

/// <summary>How a sweep groups SAEs for the GPU and paces its resumable states (no GPU needed).</summary>
public class SweepSchedulingTests
{
    private sealed record Item(string Variant, int EpochsDone, long Bytes, int Id);

    [Fact]
    public void GpuGroupsKeepOneVariantAndProgressEachAndFitInEightyPercentOfFreeMemory()
    {
        Item[] items =
        [
            new("vanilla", 0, 100, 0), new("gated", 0, 100, 1), new("vanilla", 0, 100, 2), new("vanilla", 0, 100, 3),
            new("vanilla", 5, 100, 4), new("gated", 0, 150, 5),
        ];
        // 80% of 300 bytes = 240: two vanilla SAEs of 100 bytes at a time; the gated group's largest takes 150, so one.
        var groups = SaeSweep.GpuGroups(items, i => (i.Variant, i.EpochsDone), i => i.Bytes, freeBytes: 300);
        Assert.Equal([[0, 2], [3], [1], [5], [4]], groups.Select(g => g.Select(i => i.Id).ToArray()));

        // Too little memory for even one still trains one at a time; plenty puts each key's items together.
        Assert.All(SaeSweep.GpuGroups(items, i => (i.Variant, i.EpochsDone), i => i.Bytes, freeBytes: 10), g => Assert.Single(g));
        Assert.Equal([3, 2, 1], SaeSweep.GpuGroups(items, i => (i.Variant, i.EpochsDone), i => i.Bytes, freeBytes: 1 << 20).Select(g => g.Length));
    }

    [Fact]
    public void StatesAreDueEveryThirtySecondsOrTenTimesTheirWritingTimeAndOneEpochGetsOneAnswer()
    {
        var now = TimeSpan.Zero;
        var clock = new StateClock(() => now);
        now = TimeSpan.FromSeconds(29);
        Assert.False(clock.DueAt(1));
        now = TimeSpan.FromSeconds(31);
        Assert.False(clock.DueAt(1));   // epoch 1 was already answered
        Assert.True(clock.DueAt(2));
        Assert.True(clock.DueAt(2));    // the same answer for every SAE of a group

        clock.Written(TimeSpan.FromSeconds(5));
        now = TimeSpan.FromSeconds(31 + 45);
        Assert.False(clock.DueAt(3));   // 45 s since the last write, but writing took 5 s: wait 50
        now = TimeSpan.FromSeconds(31 + 50);
        Assert.True(clock.DueAt(4));
    }
}
