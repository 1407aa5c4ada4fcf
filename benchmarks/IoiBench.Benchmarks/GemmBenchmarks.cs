using BenchmarkDotNet.Attributes;
using IoiBench.Numerics;

namespace IoiBench.Benchmarks;

/// <summary>The matrix products of a GPT-2-small forward on 64 prompts × 19 tokens (1,216 rows), per backend.</summary>
public class GemmBenchmarks : IFlopCounted
{
    /// <summary>m×k·k×n; "ᵀ" marks B stored transposed (the unembedding).</summary>
    [Params("1216x768x2304 qkv", "1216x768x768 attn-out", "1216x768x3072 mlp-in", "1216x3072x768 mlp-out", "64x768x50257ᵀ unembed")]
    public string Shape { get; set; } = "";

    [Params(GemmBackend.OpenBlas, GemmBackend.Managed)]
    public GemmBackend Backend { get; set; }

    private int _m, _n, _k;
    private bool _transB;
    private float[] _a = [], _b = [], _c = [];

    private void ParseShape()
    {
        var dims = Shape.Split(' ')[0].TrimEnd('ᵀ').Split('x').Select(int.Parse).ToArray();
        (_m, _k, _n) = (dims[0], dims[1], dims[2]);
        _transB = Shape.Contains('ᵀ');
    }

    public double FlopsPerInvocation { get { ParseShape(); return 2.0 * _m * _n * _k; } }

    [GlobalSetup]
    public void Setup()
    {
        ParseShape();
        if (Backend == GemmBackend.OpenBlas && !OpenBlas.TryLoad(out string? why)) throw new InvalidOperationException(why);
        var rng = new Random(0);
        _a = Enumerable.Range(0, _m * _k).Select(_ => (float)rng.NextDouble()).ToArray();
        _b = Enumerable.Range(0, _k * _n).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = new float[_m * _n];
    }

    [Benchmark]
    public void Multiply()
    {
        if (Backend == GemmBackend.OpenBlas)
            OpenBlas.Sgemm(false, _transB, _m, _n, _k, _a, _k, _b, _transB ? _k : _n, 0f, _c, _n);
        else
            ManagedGemm.Multiply(false, _transB, _m, _n, _k, _a, _k, _b, _transB ? _k : _n, 0f, _c, _n);
    }
}
