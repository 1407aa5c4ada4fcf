using IoiBench.Activations;
using IoiBench.Prompts;
using IoiBench.Runs;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Tests.Runs;

/// <summary>The selection rules on a real miniature sweep (the tiny model, two nodes, two λ of gated and two k of top-k, a checkpoint each).</summary>
[Collection(GemmThreadsCollection.Name)]
public class SelectionTests
{
    private static readonly SiteNode Node = SiteNode.Parse("z@1.1@end");

    private sealed record Setup(IoiDataset Dataset, SiteActivations Train, SiteActivations Validation, SiteActivations Test,
        Dictionary<SiteNode, List<SaeCandidate>> Candidates) : IDisposable
    {
        public TestPaths.TempDirectory Directory { get; init; } = null!;
        public SaeSelector Selector(SelectionRule rule) => new(TinyDataset.Model.Value.Model, Dataset, Train, Validation, Test, Candidates,
            new EditOptions(Selection: rule, F1Split: F1Split.Test));
        public void Dispose() => Directory.Dispose();
    }

    private static Setup Train()
    {
        var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("preset.yaml"), "width: 16\nbatch_size: 16\nepochs: 3\nlearning_rate: 0.01\ncheckpoints: [1, 3]\n" +
                                                   "variants:\n  gated:\n    l1: [0.5, 2]\n  topk:\n    k: [2, 4]\n");
        var dataset = TinyDataset.Generate();
        var model = TinyDataset.Model.Value.Model;
        SiteActivations Extract(IReadOnlyList<IoiExample> split) => ActivationExtractor.Extract(model, split, [Node]);
        var (train, validation, test) = (Extract(dataset.Train), Extract(dataset.Validation), Extract(dataset.Test));
        var sweep = SaeSweep.Run(TrainingPreset.Load(dir.File("preset.yaml")), train, test, dir.File("saes"), "tiny");
        return new Setup(dataset, train, validation, test, new() { [Node] = SaeCandidate.FromSweep(sweep) }) { Directory = dir };
    }

    private static double Distance(SaeSelector selector, SaeCandidate c, EditType type, SiteActivations split)
    {
        var edit = type == EditType.Agnostic ? selector.AgnosticEdit(c, Node, IoiAttribute.Io, split) : selector.AwareEdit(c, Node, IoiAttribute.Io, split);
        var edited = ActivationScale.Undo(edit.Edited, c.Scale);
        var cf = split.Get(Node, PromptVariant.CounterfactualIo);
        return Enumerable.Range(0, cf.Shape[0]).Average(p => (double)System.Numerics.Tensors.TensorPrimitives.Distance(cf.Row(p), edited.Row(p)));
    }

    [Fact]
    public void TheReferenceRuleChoosesEachEditTypeBySelfAmongFinalSaesAndTheSmallestK()
    {
        using var setup = Train();
        var selector = setup.Selector(SelectionRule.Reference);
        foreach (string variant in new[] { "gated", "topk" })
            foreach (var type in Enum.GetValues<EditType>())
            {
                var (chosen, _) = selector.Select(Node, IoiAttribute.Io, variant, type: type);
                Assert.True(chosen.Final);
                var pool = setup.Candidates[Node].Where(c => c.Variant == variant && c.Final && (variant != "topk" || c.Value == 2)).ToList();
                Assert.Equal(variant == "topk" ? 1 : 2, pool.Count);
                // The chosen SAE is the one whose own edit type lands closest on the test split.
                Assert.Equal(pool.MinBy(c => Distance(selector, c, type, setup.Test))!.Directory, chosen.Directory);
            }
        var selections = selector.Selections.Where(s => s.Variant == "gated").ToList();
        Assert.Equal(["agnostic", "aware"], selections.Select(s => s.EditType).Order());
        Assert.All(selections, s => Assert.Equal(2, s.Candidates));
    }

    [Fact]
    public void TheValidationRuleChoosesAmongEveryCheckpointByTheAgnosticEditOnValidationForBothEditTypes()
    {
        using var setup = Train();
        var selector = setup.Selector(SelectionRule.Validation);
        var (agnostic, _) = selector.Select(Node, IoiAttribute.Io, "gated", type: EditType.Agnostic);
        var (aware, _) = selector.Select(Node, IoiAttribute.Io, "gated", type: EditType.Aware);
        Assert.Equal(agnostic.Directory, aware.Directory);
        var pool = setup.Candidates[Node].Where(c => c.Variant == "gated").ToList();
        Assert.Equal(4, pool.Count);   // two λ, a checkpoint and the final SAE each
        Assert.Equal(pool.MinBy(c => Distance(selector, c, EditType.Agnostic, setup.Validation))!.Directory, agnostic.Directory);
        Assert.Equal("both", Assert.Single(selector.Selections).EditType);
    }
}
