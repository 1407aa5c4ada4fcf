using IoiBench.Activations;
using IoiBench.Behaviour;
using IoiBench.Edits;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Tests.Edits;

public class CleanRunCacheTests
{
    /// <summary>The model, recording the layer each forward pass starts at.</summary>
    private sealed class StartRecorder(ITransformer model) : ITransformer
    {
        public List<int> Starts { get; } = [];
        public Gpt2Config Config => model.Config;

        public Tensor Forward(TokenBatch tokens, ReadOnlySpan<int> logitPositions, HookSet? hooks = null)
        {
            Starts.Add(hooks?.Start?.Layer ?? 0);
            return model.Forward(tokens, logitPositions, hooks);
        }

        public void Dispose() => model.Dispose();
    }

    private static readonly SiteNode Late = SiteNode.Parse("z@1.1@end"), Early = SiteNode.Parse("k@0.2@s1");

    [Fact]
    public void PatchedRunsStartAtTheLastKeptLayerBeforeTheirFirstNodeAndScoreAsTheFullPass()
    {
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        var prompts = dataset.Test.Select(e => e.Clean).ToList();
        var activations = ActivationExtractor.Extract(model, dataset.Test, [Late, Early]);
        var recorder = new StartRecorder(model);
        var runs = new CleanRunCache(recorder, prompts, keptLayers: [0, 1, 1]);
        int batches = recorder.Starts.Count;
        Assert.True(batches >= 2, "the prompts should span several batches");   // the residuals are kept per batch
        Assert.Equal(PromptRunner.Score(model, prompts), runs.Clean);

        IoiScore[] Full(Dictionary<SiteNode, Tensor> patches) => PromptRunner.Score(model, prompts, PatchedRun.Patches(patches));
        void Check(Dictionary<SiteNode, Tensor> patches, int expectedStart)
        {
            recorder.Starts.Clear();
            Assert.Equal(expectedStart, runs.StartLayer(patches.Keys));
            Assert.Equal(Full(patches), runs.Score(patches));
            Assert.Equal(Enumerable.Repeat(expectedStart, batches), recorder.Starts);
        }

        var lateCounterfactual = new Dictionary<SiteNode, Tensor> { [Late] = activations.Get(Late, PromptVariant.CounterfactualIo) };
        Assert.NotEqual(runs.Clean, Full(lateCounterfactual));   // the patch matters
        Check(lateCounterfactual, expectedStart: 1);
        Check(new Dictionary<SiteNode, Tensor> { [Late] = activations.Get(Late, PromptVariant.Clean) }, expectedStart: 1);
        Check(new Dictionary<SiteNode, Tensor>
        {
            [Late] = activations.Get(Late, PromptVariant.CounterfactualIo),
            [Early] = activations.Get(Early, PromptVariant.CounterfactualPos),
        }, expectedStart: 0);
        Assert.Equal(runs.Clean, runs.Score(new Dictionary<SiteNode, Tensor> { [Late] = activations.Get(Late, PromptVariant.Clean) }));
    }

    [Fact]
    public void WithoutAKeptLayerRunsStartAtTheEmbedding()
    {
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        var prompts = dataset.Test.Take(5).Select(e => e.Clean).ToList();
        var runs = new CleanRunCache(model, prompts, keptLayers: []);
        var patch = new Dictionary<SiteNode, Tensor> { [Late] = ActivationExtractor.Extract(model, dataset.Test.Take(5).ToList(), [Late]).Get(Late, PromptVariant.CounterfactualS) };
        Assert.Equal(0, runs.StartLayer(patch.Keys));
        Assert.Equal(PromptRunner.Score(model, prompts, PatchedRun.Patches(patch)), runs.Score(patch));
    }
}
