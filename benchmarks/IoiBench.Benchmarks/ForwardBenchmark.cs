using BenchmarkDotNet.Attributes;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Benchmarks;

/// <summary>One GPT-2-small-shaped forward (random weights) on 64 prompts × 19 tokens, logits at the last position.</summary>
public class ForwardBenchmark : IFlopCounted
{
    private const int Batch = 64, SeqLen = 19;
    private static readonly Gpt2Config Config = new(NLayer: 12, NHead: 12, DModel: 768, DMlp: 3072, VocabSize: 50257, NPositions: 1024, LayerNormEpsilon: 1e-5f);

    private Gpt2Model _model = null!;
    private TokenBatch _tokens = null!;
    private int[] _last = [];

    /// <summary>The GEMMs (QKV, attention output, MLP in and out, last-position unembedding) plus attention.</summary>
    public double FlopsPerInvocation
    {
        get
        {
            double rows = Batch * SeqLen, d = Config.DModel;
            double perLayer = 2 * rows * d * (3 * d + d + 2 * Config.DMlp)
                              + 2.0 * 2 * Batch * Config.NHead * (SeqLen * (SeqLen + 1) / 2) * Config.DHead;
            return Config.NLayer * perLayer + 2.0 * Batch * d * Config.VocabSize;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(0);
        Tensor Random(params int[] shape)
        {
            var t = new Tensor(shape);
            var span = t.Span;
            for (int i = 0; i < span.Length; i++) span[i] = (float)((rng.NextDouble() * 2 - 1) * 0.035);
            return t;
        }
        Tensor Fill(int n, float value) { var t = new Tensor(n); t.Span.Fill(value); return t; }
        int d = Config.DModel, m = Config.DMlp;
        var embedding = Random(Config.VocabSize, d);
        var weights = new Gpt2Weights
        {
            Config = Config,
            TokenEmbedding = embedding,
            PositionEmbedding = Random(Config.NPositions, d),
            Blocks = Enumerable.Range(0, Config.NLayer).Select(_ => new Gpt2Block
            {
                Ln1 = new(Fill(d, 1f), Fill(d, 0f)), AttnWeight = Random(d, 3 * d), AttnBias = Fill(3 * d, 0f),
                AttnOutWeight = Random(d, d), AttnOutBias = Fill(d, 0f), Ln2 = new(Fill(d, 1f), Fill(d, 0f)),
                MlpInWeight = Random(d, m), MlpInBias = Fill(m, 0f), MlpOutWeight = Random(m, d), MlpOutBias = Fill(d, 0f),
            }).ToArray(),
            LnFinal = new(Fill(d, 1f), Fill(d, 0f)),
            Unembedding = embedding,
        };
        _model = new Gpt2Model(weights);
        _tokens = new TokenBatch(Enumerable.Range(0, Batch * SeqLen).Select(_ => rng.Next(Config.VocabSize)).ToArray(), Batch, SeqLen);
        _last = Enumerable.Repeat(SeqLen - 1, Batch).ToArray();
    }

    [Benchmark]
    public Tensor Forward() => _model.Forward(_tokens, _last);
}
