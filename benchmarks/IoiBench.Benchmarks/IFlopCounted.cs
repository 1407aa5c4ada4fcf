namespace IoiBench.Benchmarks;

/// <summary>A benchmark that knows how many floating-point operations one invocation performs.</summary>
public interface IFlopCounted
{
    double FlopsPerInvocation { get; }
}
