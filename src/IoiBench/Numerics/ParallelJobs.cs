using System.Runtime.ExceptionServices;

namespace IoiBench.Numerics;

/// <summary>
/// Runs independent jobs (SAE trainings, probe fits, file writes) side by side, one per core, each with single-threaded
/// matrix products: for 64→512 SAEs at batch 512 that is several times faster than splitting every product over the
/// cores. A job's failure surfaces as that job's own exception (the first bad input among them, else the first
/// failure), not as an AggregateException, so an error raised inside parallel work reads as it was written.
/// </summary>
public static class ParallelJobs
{
    public static void For(int count, Action<int> job, int? workers = null)
    {
        int previousThreads = Gemm.Threads;
        Gemm.Threads = 1;
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers ?? Environment.ProcessorCount }, job);
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(Unwrap(e)).Throw();
        }
        finally
        {
            Gemm.Threads = previousThreads;
        }
    }

    /// <summary>The exception to report for a failed parallel loop: the first bad input, else the first I/O failure, else the first.</summary>
    public static Exception Unwrap(AggregateException aggregate)
    {
        var inner = aggregate.Flatten().InnerExceptions;
        return inner.FirstOrDefault(e => e is InvalidInputException) ?? inner.FirstOrDefault(e => e is IOException or UnauthorizedAccessException)
               ?? inner[0];
    }
}
