using IoiBench.Behaviour;
using IoiBench.Model;

namespace IoiBench.Tests.Behaviour;

public class IoiMetricsTests
{
    [Fact]
    public void ScoresComeFromTheIoAndSLogitsAndTheArgmax()
    {
        float[] logits = [0.5f, 2.0f, 1.5f, 2.0f];
        Assert.Equal(new IoiScore(0.5f, true, true, Argmax: 1), IoiScore.FromLogits(logits, ioToken: 1, sToken: 2));
        Assert.Equal(new IoiScore(-0.5f, false, false, Argmax: 1), IoiScore.FromLogits(logits, ioToken: 2, sToken: 1));
        // A tie for the maximum goes to the lowest id: IO = 3 ties with 1 and is not top-1.
        Assert.Equal(new IoiScore(1.5f, true, false, Argmax: 1), IoiScore.FromLogits(logits, ioToken: 3, sToken: 0));
    }

    [Fact]
    public void MetricsAverageOverPrompts()
    {
        var metrics = IoiMetrics.From([new IoiScore(2f, true, true), new IoiScore(-1f, false, false), new IoiScore(0.5f, true, false), new IoiScore(0f, false, false)]);
        Assert.Equal(0.5, metrics.Accuracy);
        Assert.Equal(0.25, metrics.Top1Accuracy);
        Assert.Equal(0.375, metrics.LogitDiff);
        Assert.Equal(4, metrics.Prompts);
        Assert.Throws<ArgumentException>(() => IoiMetrics.From([]));
    }

    [Fact]
    public void HeadRefsParseAndNameBadInput()
    {
        Assert.Equal(new HeadRef(10, 7), HeadRef.Parse(" 10.7"));
        Assert.Equal("9.6", new HeadRef(9, 6).ToString());
        Assert.Contains("'9-6'", Assert.Throws<InvalidInputException>(() => HeadRef.Parse("9-6")).Message);
    }
}

public class MeanAblationTests
{
    [Fact]
    public void MeansAreAveragesOfTheCapturedOutputs()
    {
        var model = TinyDataset.Model.Value.Model;
        var prompts = TinyDataset.Generate().Test.Select(e => e.Clean).Where(p => p.Prompt.Template.Id == "went").Take(5).ToList();
        var means = MeanHeadOutputs.Compute(model, prompts);
        var head = new HeadRef(1, 2);
        int seqLen = prompts[0].Ids.Length, position = prompts[0].Positions.S2;

        var expected = new double[model.Config.DHead];
        foreach (var prompt in prompts)
        {
            var hooks = new HookSet();
            var capture = hooks.Capture(new HeadHook(HookPoint.Z, head.Layer, head.Head), [position]);
            model.Forward(TokenBatch.FromSequences([prompt.Ids]), [], hooks);
            for (int c = 0; c < expected.Length; c++) expected[c] += capture.Values[c] / (double)prompts.Count;
        }
        var actual = means.Mean(seqLen, position, head).ToArray();
        for (int c = 0; c < expected.Length; c++) Approx.Equal(expected[c], actual[c]);
    }

    [Fact]
    public void AblatingWithTheMeanOfTheSamePromptChangesNothing()
    {
        var model = TinyDataset.Model.Value.Model;
        var prompt = TinyDataset.Generate().Test[0].Clean;
        var means = MeanHeadOutputs.Compute(model, [prompt]);
        var clean = PromptRunner.Score(model, [prompt]);
        var ablation = new HeadAblation([new HeadRef(0, 1), new HeadRef(1, 3)]);
        var ablated = PromptRunner.Score(model, [prompt], b => ablation.Hooks(b, means, model.Config));
        Approx.Equal(clean[0].LogitDiff, ablated[0].LogitDiff);
    }

    [Fact]
    public void AblatingAtOnePositionOnlyPatchesThatPosition()
    {
        var model = TinyDataset.Model.Value.Model;
        var prompts = TinyDataset.Generate().Test.Select(e => e.Clean).ToList();
        var means = MeanHeadOutputs.Compute(model, prompts);
        var batch = PromptRunner.Batches(prompts).First();
        var hooks = new HeadAblation([new HeadRef(1, 0)], IoiBench.Prompts.SemanticPosition.S2).Hooks(batch, means, model.Config);
        var patch = Assert.Single(hooks.Patches);
        Assert.Equal(batch.Prompts.Select(p => p.Positions.S2), patch.Positions);
        Assert.Equal(batch.Tokens.SeqLen, new HeadAblation([new HeadRef(1, 0)]).Hooks(batch, means, model.Config).Patches.Count);
    }
}
