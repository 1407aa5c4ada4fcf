using IoiBench.Model;

namespace IoiBench.Tests.Model;

public class WeightProcessingTests
{
    private static readonly Lazy<LoadedModel> Raw = new(() => ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Raw));
    private static readonly Lazy<LoadedModel> Processed = new(() => ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Processed));

    private static float[] LogSoftmaxRows(float[] logits, int vocab)
    {
        var result = new float[logits.Length];
        for (int r = 0; r < logits.Length / vocab; r++)
        {
            var row = logits.AsSpan(r * vocab, vocab);
            double max = row.ToArray().Max(), sum = 0;
            foreach (float x in row) sum += Math.Exp(x - max);
            for (int v = 0; v < vocab; v++) result[r * vocab + v] = (float)(row[v] - max - Math.Log(sum));
        }
        return result;
    }

    /// <summary>
    /// TransformerLens's default basis, checked against its definition computed by the PyTorch reference: the residual
    /// stream is the raw one centred over d_model (every write to it is centred, and LayerNorm ignores the mean), and z
    /// is the raw z less the value bias (folded into b_O); no refactor, so each head's coordinates are the checkpoint's.
    /// </summary>
    [Fact]
    public void TheTransformerLensBasisHasItsCentredResidualStreamAndBiasFreeZ()
    {
        var reference = TinyReference.Instance.Value;
        var model = ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.TransformerLens).Model;
        Assert.Equal(ModelBasis.TransformerLens, model.Weights.Basis);
        var cfg = model.Config;
        int batch = reference.Tokens.Batch, seqLen = reference.Tokens.SeqLen, d = cfg.DModel;
        var hooks = new HookSet();
        var captures = new Dictionary<(HookPoint, int, int), ActivationCapture>();
        foreach (var point in new[] { HookPoint.ResidPre, HookPoint.Z })
            for (int l = 0; l < cfg.NLayer; l++)
                for (int pos = 0; pos < seqLen; pos++)
                    captures[(point, l, pos)] = hooks.Capture(new HeadHook(point, l, HeadHook.AllHeads), Enumerable.Repeat(pos, batch).ToArray());
        model.Forward(reference.Tokens, Enumerable.Repeat(seqLen - 1, batch).ToArray(), hooks);
        foreach (var ((point, l, pos), capture) in captures)
        {
            var expected = reference.Tensors[$"tl.{point.SiteName()}.{l}"];
            for (int b = 0; b < batch; b++)
                Approx.Equal(expected.Span.Slice((b * seqLen + pos) * d, d), capture.Row(b), 2e-5f, $"{point.SiteName()}@{l} prompt {b} position {pos}");
        }
    }

    [Fact]
    public void NextTokenLogProbabilitiesAreUnchanged()
    {
        var reference = TinyReference.Instance.Value;
        int vocab = Raw.Value.Model.Config.VocabSize;
        var raw = Raw.Value.Model.Forward(reference.Tokens, reference.AllPositions).Span.ToArray();
        var processed = Processed.Value.Model.Forward(reference.Tokens, reference.AllPositions).Span.ToArray();
        Approx.Equal(LogSoftmaxRows(raw, vocab), LogSoftmaxRows(processed, vocab), 2e-5f, "log-probs");

        // Centering the unembedding shifts each position's logits by one constant, so the logits differ.
        float shift = processed[0] - raw[0];
        Assert.True(Math.Abs(shift) > 1e-3f);
        for (int v = 0; v < vocab; v++) Approx.Equal(raw[v] + shift, processed[v], 2e-5, $"logit {v}");
    }

    [Fact]
    public void EveryHeadsWOIsOrthonormalAndLayerNormsAndValueBiasesAreFolded()
    {
        var w = Processed.Value.Model.Weights;
        var cfg = w.Config;
        Assert.Equal(ModelBasis.Processed, w.Basis);
        Assert.Null(w.LnFinal);
        Assert.NotNull(w.UnembeddingBias);
        foreach (var block in w.Blocks)
        {
            Assert.Null(block.Ln1);
            Assert.Null(block.Ln2);
            Assert.All(block.AttnBias.Span.Slice(2 * cfg.DModel, cfg.DModel).ToArray(), b => Assert.Equal(0f, b));
            for (int h = 0; h < cfg.NHead; h++)
                for (int a = 0; a < cfg.DHead; a++)
                    for (int c = 0; c < cfg.DHead; c++)
                    {
                        var rowA = block.AttnOutWeight.Row(h * cfg.DHead + a);
                        var rowC = block.AttnOutWeight.Row(h * cfg.DHead + c);
                        double dot = 0;
                        for (int o = 0; o < cfg.DModel; o++) dot += rowA[o] * rowC[o];
                        Assert.Equal(a == c ? 1.0 : 0.0, dot, 5);
                    }
        }
    }

    /// <summary>Captures q, k and z at every position of every head in one forward pass.</summary>
    private static Dictionary<(HookPoint, int, int, int), ActivationCapture> CaptureAll(Gpt2Model model)
    {
        var tokens = TinyReference.Instance.Value.Tokens;
        var hooks = new HookSet();
        var captures = new Dictionary<(HookPoint, int, int, int), ActivationCapture>();
        foreach (var point in new[] { HookPoint.Q, HookPoint.K, HookPoint.Z })
            for (int l = 0; l < model.Config.NLayer; l++)
                for (int h = 0; h < model.Config.NHead; h++)
                    for (int pos = 0; pos < tokens.SeqLen; pos++)
                        captures[(point, l, h, pos)] = hooks.Capture(new HeadHook(point, l, h), Enumerable.Repeat(pos, tokens.Batch).ToArray());
        model.Forward(tokens, Enumerable.Repeat(tokens.SeqLen - 1, tokens.Batch).ToArray(), hooks);
        return captures;
    }

    [Fact]
    public void QueryKeyScoresAreKeptAndZNormEqualsTheHeadOutputNorm()
    {
        var raw = CaptureAll(Raw.Value.Model);
        var processed = CaptureAll(Processed.Value.Model);
        var cfg = Raw.Value.Model.Config;
        var rawWeights = Raw.Value.Model.Weights;
        var tokens = TinyReference.Instance.Value.Tokens;
        static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y) { double s = 0; for (int i = 0; i < x.Length; i++) s += x[i] * y[i]; return s; }

        for (int l = 0; l < cfg.NLayer; l++)
            for (int h = 0; h < cfg.NHead; h++)
                for (int b = 0; b < tokens.Batch; b++)
                    for (int i = 0; i < tokens.SeqLen; i++)
                    {
                        for (int j = 0; j <= i; j++)
                        {
                            var q = raw[(HookPoint.Q, l, h, i)].Row(b);
                            var k = raw[(HookPoint.K, l, h, j)].Row(b);
                            double rawScore = Dot(q, k), scale = Math.Sqrt(Dot(q, q) * Dot(k, k));
                            double processedScore = Dot(processed[(HookPoint.Q, l, h, i)].Row(b), processed[(HookPoint.K, l, h, j)].Row(b));
                            Assert.True(Math.Abs(rawScore - processedScore) <= 1e-5 * (1 + scale), $"q·k score {l}.{h} ({i},{j}): {rawScore} vs {processedScore}");
                        }

                        // Raw z carries the value bias b_V + β₁·W_V (β₁ the LayerNorm shift; the pattern sums to 1),
                        // which processing folds into b_O. The processed head output is (z − bias)·W_O with its mean over
                        // d_model removed (center_writing_weights), and an orthonormal W_O makes ‖z‖ equal its norm.
                        var z = raw[(HookPoint.Z, l, h, i)].Row(b);
                        var block = rawWeights.Blocks[l];
                        int column = 2 * cfg.DModel + h * cfg.DHead;
                        var valueBias = new double[cfg.DHead];
                        for (int c = 0; c < cfg.DHead; c++)
                        {
                            valueBias[c] = block.AttnBias.Span[column + c];
                            for (int r = 0; r < cfg.DModel; r++) valueBias[c] += block.Ln1!.Bias.Span[r] * block.AttnWeight.Row(r)[column + c];
                        }
                        var output = new double[cfg.DModel];
                        for (int o = 0; o < cfg.DModel; o++)
                            for (int c = 0; c < cfg.DHead; c++)
                                output[o] += (z[c] - valueBias[c]) * block.AttnOutWeight.Row(h * cfg.DHead + c)[o];
                        double mean = output.Average();
                        double outputNormSquared = output.Sum(x => (x - mean) * (x - mean));
                        var zProcessed = processed[(HookPoint.Z, l, h, i)].Row(b);
                        Approx.Equal(Math.Sqrt(outputNormSquared), Math.Sqrt(Dot(zProcessed, zProcessed)), 2e-5, $"‖z‖ {l}.{h} position {i}");
                    }
    }

    [Fact]
    public void ProcessingTwiceIsRefused() =>
        Assert.Throws<InvalidOperationException>(() => WeightProcessing.Process(Processed.Value.Model.Weights));
}
