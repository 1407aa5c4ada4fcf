using IoiBench.Activations;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Tests.Activations;

[Collection(WarningsCollection.Name)]
public class ActivationCacheTests
{
    private static readonly SiteNode[] Nodes = [SiteNode.Parse("z@1.2@end"), SiteNode.Parse("k@1.0@io"), SiteNode.Parse("v@0.3@s2")];

    [Fact]
    public void RowsAreEachPromptsActivationAtItsOwnPosition()
    {
        var model = TinyDataset.Model.Value.Model;
        var examples = TinyDataset.Generate().Test;
        var activations = ActivationExtractor.Extract(model, examples, Nodes);
        foreach (int i in new[] { 0, 7, examples.Count - 1 })
            foreach (var variant in Enum.GetValues<PromptVariant>())
            {
                var prompt = PromptVariants.Select(examples[i], variant);
                foreach (var node in Nodes)
                {
                    var hooks = new HookSet();
                    var capture = hooks.Capture(node.HeadHook, [prompt.Positions[node.Position]]);
                    model.Forward(TokenBatch.FromSequences([prompt.Ids]), [], hooks);
                    Approx.Equal(capture.Values, activations.Get(node, variant).Row(i), what: $"{node} {variant} prompt {i}");
                }
            }
        // The Pos counterfactual moves IO: k@io is read at the counterfactual's own io position.
        Assert.NotEqual(examples[0].Clean.Positions.Io, examples[0].CounterfactualPos.Positions.Io);
    }

    [Fact]
    public void SecondRequestHitsTheCacheAndAnyChangeMisses()
    {
        using var dir = new TestPaths.TempDirectory();
        var cache = new ActivationCache(dir.Path);
        var loaded = TinyDataset.Model.Value;
        var dataset = TinyDataset.Generate();

        var first = cache.GetOrExtract(loaded, dataset, DatasetSplit.Test, Nodes);
        var second = cache.GetOrExtract(loaded, dataset, DatasetSplit.Test, Nodes);
        Assert.False(first.Hit);
        Assert.True(second.Hit);
        Assert.Equal(first.Path, second.Path);
        foreach (var (name, tensor) in first.Activations.Tensors)
            Assert.Equal(tensor.Span.ToArray(), second.Activations.Tensors[name].Span.ToArray());

        Assert.False(cache.GetOrExtract(loaded, dataset, DatasetSplit.Validation, Nodes).Hit);
        Assert.False(cache.GetOrExtract(loaded, dataset, DatasetSplit.Test, Nodes[..2]).Hit);
        Assert.False(cache.GetOrExtract(loaded, TinyDataset.Generate(TinyDataset.Options with { Seed = 4 }), DatasetSplit.Test, Nodes).Hit);
        var raw = ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Raw);
        Assert.False(cache.GetOrExtract(raw, dataset, DatasetSplit.Test, Nodes).Hit);
    }

    [Fact]
    public void ACorruptedEntryIsRebuiltWithAWarning()
    {
        using var dir = new TestPaths.TempDirectory();
        var cache = new ActivationCache(dir.Path);
        var loaded = TinyDataset.Model.Value;
        var dataset = TinyDataset.Generate();
        var original = cache.GetOrExtract(loaded, dataset, DatasetSplit.Test, Nodes);
        File.WriteAllBytes(original.Path, File.ReadAllBytes(original.Path)[..100]);

        var warnings = new List<string>();
        var previous = Warnings.Sink;
        Warnings.Sink = warnings.Add;
        try
        {
            var rebuilt = cache.GetOrExtract(loaded, dataset, DatasetSplit.Test, Nodes);
            Assert.False(rebuilt.Hit);
            Assert.Equal(original.Activations.Get(Nodes[0], PromptVariant.Clean).Span.ToArray(), rebuilt.Activations.Get(Nodes[0], PromptVariant.Clean).Span.ToArray());
        }
        finally { Warnings.Sink = previous; }
        var warning = Assert.Single(warnings);
        Assert.Contains(original.Path, warning);
        Assert.Contains("rebuilding", warning);
        Assert.True(cache.GetOrExtract(loaded, dataset, DatasetSplit.Test, Nodes).Hit);
    }
}
