using BenchmarkDotNet.Attributes;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Benchmarks;

/// <summary>
/// DAS's step on a GPT-2-small-shaped model (random weights), 64 prompts × 19 tokens: the forward pass keeping its
/// activations with z@0.0 patched at the last position, then the backward pass from the last position's logits through
/// all 12 layers to that patch (no weight gradients).
/// </summary>
public class BackpropBenchmark : IFlopCounted
{
    private const int Batch = 64, SeqLen = 19;

    private Gpt2Backprop _model = null!;
    private TokenBatch _tokens = null!;
    private int[] _last = [];
    private float[] _patch = [];
    private Tensor _logitGradient = null!;

    /// <summary>
    /// The forward's flops, and the backward's: the same GEMMs once more (each input gradient is one product with the
    /// weight), and the attention's products twice (dp and dv from dz, then dq and dk from ds).
    /// </summary>
    public double FlopsPerInvocation
    {
        get
        {
            var shape = RandomGpt2.SmallShape;
            double attention = 2.0 * 2 * Batch * shape.NHead * (SeqLen * (SeqLen + 1) / 2.0) * shape.DHead;
            return 2 * shape.ForwardFlops(Batch, SeqLen, logitRows: Batch) + shape.NLayer * attention;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _model = new Gpt2Backprop(RandomGpt2.Create(RandomGpt2.SmallShape, seed: 0));
        var rng = new Random(0);
        _tokens = new TokenBatch(Enumerable.Range(0, Batch * SeqLen).Select(_ => rng.Next(RandomGpt2.SmallShape.VocabSize)).ToArray(), Batch, SeqLen);
        _last = Enumerable.Repeat(SeqLen - 1, Batch).ToArray();
        _patch = Enumerable.Range(0, Batch * RandomGpt2.SmallShape.DHead).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _logitGradient = new Tensor(Batch, RandomGpt2.SmallShape.VocabSize);
        for (int i = 0; i < _logitGradient.Length; i++) _logitGradient.Buffer[i] = ((float)rng.NextDouble() - 0.5f) * 1e-3f;
    }

    [Benchmark]
    public HookGradients ForwardAndBackward()
    {
        var hooks = new HookSet();
        hooks.Patch(new HeadHook(HookPoint.Z, 0, 0), _last, _patch);
        return _model.Forward(_tokens, _last, hooks).Backward(_logitGradient);
    }
}
