using IoiBench.Behaviour;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Tests.Model;

/// <summary>The embedded default model (models/ioi-tiny) meets its targets on the benchmark's default test split.</summary>
public class EmbeddedModelTests
{
    private static string Directory => Path.Combine(TestPaths.RepoRoot, "models", "ioi-tiny");
    private static readonly Lazy<LoadedModel> Model = new(() => ModelDirectory.Load(Directory, ModelBasis.Raw));
    private static readonly Lazy<List<TokenizedPrompt>> TestPrompts = new(() =>
        IoiDataset.Generate(PromptLibrary.Load(Path.Combine(TestPaths.RepoRoot, "prompts")), Model.Value.Tokenizer, new DatasetOptions())
            .Test.Select(e => e.Clean).ToList());

    [Fact]
    public void PerformsIoiOnTheTestSplit()
    {
        var metrics = IoiMetrics.From(PromptRunner.Score(Model.Value.Model, TestPrompts.Value));
        Assert.Equal(5000, metrics.Prompts);
        Assert.True(metrics.Accuracy >= 0.97, $"accuracy {metrics.Accuracy}");
        Assert.True(metrics.LogitDiff >= 3.0, $"logit difference {metrics.LogitDiff}");
    }

    [Fact]
    public void FitsTheSizeBudgetAndIsAGpt2With64DimensionalHeads()
    {
        Assert.True(new FileInfo(Path.Combine(Directory, "model.safetensors")).Length <= 25L << 20);
        Assert.Equal(64, Model.Value.Model.Config.DHead);
    }

    [Fact]
    public void MeanAblatingTheSInhibitionHeadsBreaksIoi()
    {
        var sites = SitesFile.Load(Path.Combine(Directory, "sites.yaml"));
        var heads = sites.HeadClasses["s_inhibition"].Select(HeadRef.Parse).ToList();
        Assert.NotEmpty(heads);
        foreach (var node in sites.Nodes)
            Assert.True(node.Layer < Model.Value.Model.Config.NLayer && node.Head < Model.Value.Model.Config.NHead, $"{node} is outside the model");

        var prompts = TestPrompts.Value.Take(1000).ToList();
        var model = Model.Value.Model;
        var clean = IoiMetrics.From(PromptRunner.Score(model, prompts));
        var means = MeanHeadOutputs.Compute(model, prompts);
        var ablation = new HeadAblation(heads);
        var ablated = IoiMetrics.From(PromptRunner.Score(model, prompts, b => ablation.Hooks(b, means, model.Config)));
        Assert.True(ablated.LogitDiff < 0.25 * clean.LogitDiff, $"logit difference {clean.LogitDiff} → {ablated.LogitDiff} with {string.Join(",", heads)} ablated");
        Assert.True(ablated.Accuracy < clean.Accuracy - 0.2, $"accuracy {clean.Accuracy} → {ablated.Accuracy}");
    }
}
