using BenchmarkDotNet.Attributes;
using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Benchmarks;

/// <summary>
/// SAE training throughput: <see cref="Steps"/> Adam steps of 64→512 SAEs at batch 512 (forward, analytic backward,
/// Adam, decoder renormalisation), for one SAE and for 48 SAEs trained at once (<see cref="ParallelJobs"/>, one
/// SAE per core). Compare with tools/bench_torch_sae.py, the same loop in PyTorch.
/// </summary>
public class SaeTrainingBenchmark : IFlopCounted
{
    private const int DIn = 64, Width = 512, Batch = 512, Steps = 20;

    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = "vanilla";

    public static IEnumerable<string> Variants => SaeVariants.All.Select(v => v.Name);

    [Params(1, 48)]
    public int Saes { get; set; }

    private SparseAutoencoder[] _saes = [];
    private Adam[] _optimizers = [];
    private SaeParameters[] _gradients = [];
    private Tensor _batch = null!;

    /// <summary>The variant's [512×64]·[64×512]-sized products per step (<see cref="SaeVariant.ProductsPerStep"/>).</summary>
    public double FlopsPerInvocation => (double)Saes * Steps * SaeVariants.Get(Variant).ProductsPerStep * 2.0 * Batch * DIn * Width;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new DeterministicRandom(0);
        _batch = new Tensor(Batch, DIn);
        for (int i = 0; i < _batch.Length; i++) _batch.Span[i] = (float)rng.NextGaussian();
        var spec = new SaeSpec(Variant, SaeVariants.Get(Variant).IntegerSparsity ? 8 : 2.5f);
        _saes = Enumerable.Range(0, Saes).Select(s => spec.Create(DIn, Width, new DeterministicRandom(1, (ulong)s))).ToArray();
        _optimizers = _saes.Select(s => new Adam(s.Parameters)).ToArray();
        _gradients = _saes.Select(s => s.Parameters.ZerosLike()).ToArray();
    }

    [Benchmark]
    public void Train() => ParallelJobs.For(Saes, s =>
    {
        for (int step = 0; step < Steps; step++)
        {
            _gradients[s].Clear();
            _saes[s].Loss(_batch, _gradients[s]);
            _optimizers[s].Step(_gradients[s], 1e-4f);
            _saes[s].AfterStep();
        }
    });
}
