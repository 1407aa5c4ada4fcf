namespace IoiBench;

/// <summary>Refuses work that cannot fit in this machine's memory before it starts, instead of failing hours later.</summary>
public static class MemoryBudget
{
    /// <summary>The memory the process may use (physical memory, or the container's limit).</summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>An error when <paramref name="bytes"/> exceed what is available; <paramref name="what"/> names what needs them.</summary>
    public static void Check(long bytes, string what)
    {
        if (bytes > Available)
            throw new InvalidInputException($"{what} need about {Gigabytes(bytes)} of memory, more than the {Gigabytes(Available)} this machine has; " +
                                            "use smaller splits.");
    }

    private static string Gigabytes(long bytes) => $"{bytes / (double)(1L << 30):0.#} GiB";
}
