using BenchmarkDotNet.Attributes;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Benchmarks;

/// <summary>One GPT-2-small-shaped forward (random weights) on 64 prompts × 19 tokens, logits at the last position.</summary>
public class ForwardBenchmark : IFlopCounted
{
    private const int Batch = 64, SeqLen = 19;

    private Gpt2Model _model = null!;
    private TokenBatch _tokens = null!;
    private int[] _last = [];

    public double FlopsPerInvocation => RandomGpt2.SmallShape.ForwardFlops(Batch, SeqLen, logitRows: Batch);

    [GlobalSetup]
    public void Setup()
    {
        _model = new Gpt2Model(RandomGpt2.Create(RandomGpt2.SmallShape, seed: 0));
        var rng = new Random(0);
        _tokens = new TokenBatch(Enumerable.Range(0, Batch * SeqLen).Select(_ => rng.Next(RandomGpt2.SmallShape.VocabSize)).ToArray(), Batch, SeqLen);
        _last = Enumerable.Repeat(SeqLen - 1, Batch).ToArray();
    }

    [Benchmark]
    public Tensor Forward() => _model.Forward(_tokens, _last);
}
