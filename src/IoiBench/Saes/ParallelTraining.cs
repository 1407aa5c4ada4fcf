using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// Runs independent SAE trainings side by side, one per core, each with single-threaded matrix products: for
/// 64→512 SAEs at batch 512 that is several times faster than splitting every product over the cores.
/// </summary>
public static class ParallelTraining
{
    public static void For(int count, Action<int> train, int? workers = null)
    {
        int previousThreads = Gemm.Threads;
        Gemm.Threads = 1;
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers ?? Environment.ProcessorCount }, train);
        }
        finally
        {
            Gemm.Threads = previousThreads;
        }
    }
}
