using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace IoiBench.Benchmarks;

/// <summary>
/// dotnet run -c Release --project benchmarks/IoiBench.Benchmarks -- --filter '*'
/// Every benchmark reports GFLOP/s next to its time (see <see cref="GflopsColumn"/>).
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(10))
            .AddColumn(new GflopsColumn());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
