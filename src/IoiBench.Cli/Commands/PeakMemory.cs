namespace IoiBench.Cli.Commands;

/// <summary>
/// The process's peak resident memory since the last call, on Linux: VmHWM of /proc/self/status, reset after each
/// reading by writing 5 to /proc/self/clear_refs. Null where either is unavailable.
/// </summary>
internal static class PeakMemory
{
    public static long? TakePeak()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is null) return null;
            long kilobytes = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllText("/proc/self/clear_refs", "5");
            return kilobytes * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
