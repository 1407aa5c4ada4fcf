using IoiBench.Prompts;

namespace IoiBench.Tests.Prompts;

public class IoiDatasetTests
{
    private static readonly DatasetOptions Small = new(Train: 3000, Validation: 400, Test: 600, Seed: 7);
    private static readonly Lazy<IoiDataset> Dataset = new(() => Generate(Small));

    private static IoiDataset Generate(DatasetOptions options) =>
        IoiDataset.Generate(PromptLibrary.Load(PromptLibraryTests.PromptsDirectory), PromptLibraryTests.Gpt2Tokenizer, options);

    private static IEnumerable<IoiExample> All => Dataset.Value.Train.Concat(Dataset.Value.Validation).Concat(Dataset.Value.Test);

    [Fact]
    public void SplitsHaveTheirSizesAndDisjointPrompts()
    {
        var d = Dataset.Value;
        Assert.Equal([3000, 400, 600], new[] { d.Train.Count, d.Validation.Count, d.Test.Count });
        var texts = All.Select(e => e.Clean.Prompt.Text).ToList();
        Assert.Equal(texts.Count, texts.Distinct().Count());
    }

    [Fact]
    public void SameSeedSameDatasetOtherSeedOtherDataset()
    {
        var again = Generate(Small);
        Assert.Equal(Dataset.Value.Test.Select(e => e.Clean.Prompt.Text), again.Test.Select(e => e.Clean.Prompt.Text));
        Assert.Equal(Dataset.Value.Test.Select(e => e.CounterfactualIo.Prompt.Text), again.Test.Select(e => e.CounterfactualIo.Prompt.Text));
        Assert.Equal(Dataset.Value.Hash, again.Hash);
        var other = Generate(Small with { Seed = 8 });
        Assert.NotEqual(Dataset.Value.Hash, other.Hash);
        Assert.True(Dataset.Value.Test.Zip(other.Test).Count(p => p.First.Clean.Prompt.Text == p.Second.Clean.Prompt.Text) < 3);
        // Splits draw from separate random streams: validation is not a prefix of test (a reseeded generator would make it one).
        Assert.NotEqual(Dataset.Value.Validation[0].Clean.Prompt.Text, Dataset.Value.Test[0].Clean.Prompt.Text);
    }

    [Fact]
    public void EachCounterfactualChangesExactlyOneAttribute()
    {
        var (_, cfIo, cfS) = Dataset.Value.Library.NameSlices();
        foreach (var e in All)
        {
            var p = e.Clean.Prompt;
            var io = e.CounterfactualIo.Prompt;
            Assert.True(io.Io != p.Io && io.S == p.S && io.IoFirst == p.IoFirst && io.Place == p.Place && io.Object == p.Object && io.TemplateIndex == p.TemplateIndex);
            Assert.Contains(io.Io, cfIo);
            var s = e.CounterfactualS.Prompt;
            Assert.True(s.S != p.S && s.Io == p.Io && s.IoFirst == p.IoFirst && s.Place == p.Place && s.Object == p.Object && s.TemplateIndex == p.TemplateIndex);
            Assert.Contains(s.S, cfS);
            var pos = e.CounterfactualPos.Prompt;
            Assert.True(pos.IoFirst != p.IoFirst && pos.Io == p.Io && pos.S == p.S && pos.Place == p.Place && pos.Object == p.Object && pos.TemplateIndex == p.TemplateIndex);
            foreach (var attribute in Enum.GetValues<IoiAttribute>())
            {
                var cf = e.Counterfactual(attribute).Prompt;
                Assert.Equal(Enum.GetValues<IoiAttribute>().Select(a => a == attribute), Enum.GetValues<IoiAttribute>().Select(a => cf.ValueOf(a) != p.ValueOf(a)));
                Assert.Equal(e.Clean.Ids.Length, e.Counterfactual(attribute).Ids.Length);
            }
        }
    }

    [Fact]
    public void PositionsPointAtTheRightTokensAndBosIsAddedOnce()
    {
        var tokenizer = PromptLibraryTests.Gpt2Tokenizer;
        foreach (var e in All)
            foreach (var t in new[] { e.Clean, e.CounterfactualIo, e.CounterfactualS, e.CounterfactualPos })
            {
                Assert.Equal(tokenizer.BosId, t.Ids[0]);
                Assert.DoesNotContain(tokenizer.BosId, t.Ids[1..]);
                Assert.Equal(" " + t.Prompt.Io, tokenizer.Decode([t.Ids[t.Positions.Io]]));
                Assert.Equal(" " + t.Prompt.S, tokenizer.Decode([t.Ids[t.Positions.S1]]));
                Assert.Equal(" " + t.Prompt.S, tokenizer.Decode([t.Ids[t.Positions.S2]]));
                Assert.Equal(t.Positions.S1 + 1, t.Positions.S1Plus1);
                Assert.Equal(t.Ids.Length - 1, t.Positions.End);
                Assert.Equal(t.Prompt.IoFirst, t.Positions.Io < t.Positions.S1);
                Assert.True(t.Positions.S2 > Math.Max(t.Positions.Io, t.Positions.S1));
                Assert.Equal(t.Prompt.Text, tokenizer.Decode(t.Ids[1..]));
                Assert.Equal([t.IoToken], tokenizer.Encode(" " + t.Prompt.Io));
            }
    }

    [Fact]
    public void ValidationAndTestUseOnlyBaseNamesAndCounterfactualNamesOccurInTrain()
    {
        var (baseNames, cfIo, cfS) = Dataset.Value.Library.NameSlices();
        foreach (var e in Dataset.Value.Validation.Concat(Dataset.Value.Test))
        {
            Assert.Contains(e.Clean.Prompt.Io, baseNames);
            Assert.Contains(e.Clean.Prompt.S, baseNames);
        }
        var trainNames = Dataset.Value.Train.SelectMany(e => new[] { e.Clean.Prompt.Io, e.Clean.Prompt.S }).ToHashSet();
        Assert.True(cfIo.Concat(cfS).Count(trainNames.Contains) > (cfIo.Count + cfS.Count) * 9 / 10);
    }

    [Fact]
    public void PatternsAlternateSoEachSplitIsBalanced()
    {
        foreach (var split in Enum.GetValues<DatasetSplit>())
        {
            var examples = Dataset.Value.Split(split);
            Assert.Equal(examples.Count / 2, examples.Count(e => e.Clean.Prompt.IoFirst));
        }
    }
}
