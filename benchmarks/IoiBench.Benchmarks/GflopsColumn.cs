using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IoiBench.Benchmarks;

/// <summary>GFLOP/s from the benchmark's own flop count and the measured mean time.</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Floating-point operations per second (2·m·n·k per GEMM), from the mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        var instance = (IFlopCounted)Activator.CreateInstance(benchmarkCase.Descriptor.Type)!;
        foreach (var parameter in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(parameter.Name)?.SetValue(instance, parameter.Value);
        return (instance.FlopsPerInvocation / stats.Mean).ToString("F1");
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
