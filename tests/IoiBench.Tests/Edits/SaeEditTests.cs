using IoiBench.Edits;
using IoiBench.Numerics;
using IoiBench.Tests.Saes;

namespace IoiBench.Tests.Edits;

/// <summary>
/// The SAE edits on the hand-built SAE of SaeExactValueTests with three latents: f0 = ReLU(x0 − 1), f1 = ReLU(x1 − 1),
/// latent 2 silent; decoder rows (1, 0), (0, 1), (0, 0); b_dec = (1, 0).
/// Clean (3, 2): f = (2, 1, 0), x̂ − b_dec = (2, 1). Counterfactual (1.5, 4): f = (0.5, 3, 0).
/// </summary>
public class SaeEditTests
{
    private static readonly Tensor Clean = Tensor.From([3, 2], 1, 2), Counterfactual = Tensor.From([1.5f, 4], 1, 2);

    [Fact]
    public void TheGreedyEditPicksTheLatentThatBringsTheActivationClosestToTheCounterfactual()
    {
        // δ = (−1.5, 2); candidates c0 = (−1.5, 0), c1 = (0, 2), c2 = 0. First pick: ‖c − δ‖ = 2, 1.5, 2.5 → latent 1.
        // Second: S = (0, 2), ‖S + c0 − δ‖ = 0 → latent 0; the edit lands exactly on the counterfactual.
        var sae = SaeExactValueTests.HandBuiltVanilla(3);
        var one = SaeEdits.Greedy(sae, Clean, Counterfactual, n: 1);
        Assert.Equal([3f, 4f], one.Edited.Span.ToArray());
        Assert.Equal([1], one.Removed[0]);
        var two = SaeEdits.Greedy(sae, Clean, Counterfactual, n: 2);
        Assert.Equal([1.5f, 4f], two.Edited.Span.ToArray());
        Assert.Equal([1, 0], two.Removed[0]);
        // A third pick has nothing left to move: the zeroed candidates cost nothing and change nothing.
        Assert.Equal([1.5f, 4f], SaeEdits.Greedy(sae, Clean, Counterfactual, n: 3).Edited.Span.ToArray());
    }

    [Fact]
    public void WeightsOfTheActiveLatentsSumToOneAndTheRemovedOnesAreCounted()
    {
        // w_j = f_j·⟨d_j, (2, 1)⟩ / 5: w0 = 4/5, w1 = 1/5, w2 = 0.
        var sae = SaeExactValueTests.HandBuiltVanilla(3);
        Assert.Equal(0.8, SaeEdits.WeightRemoved(sae, Clean, [[0]])[0], 6);
        Assert.Equal(0.2, SaeEdits.WeightRemoved(sae, Clean, [[1]])[0], 6);
        Assert.Equal(1.0, SaeEdits.WeightRemoved(sae, Clean, [[0, 1, 2]])[0], 6);
        Assert.Equal(0.0, SaeEdits.WeightRemoved(sae, Clean, [[]])[0]);
        // x̂ = b_dec (nothing active): every weight is NaN.
        Assert.True(double.IsNaN(SaeEdits.WeightRemoved(sae, Tensor.From([0.5f, 0.5f], 1, 2), [[0]])[0]));
    }

    [Fact]
    public void F1RanksLatentsPerValueWithUndefinedScoresLastAndTiesToTheLowerIndex()
    {
        // Activity: p0 (A) {0, 1}, p1 (A) {0}, p2 (B) {1}, p3 (B) {}. Value A: F1 = 1, 0.5, NaN (latent 2 never fires).
        // Value B: latent 0 has precision and recall 0, so F1 = 0/0 = NaN; latent 1: 0.5; latent 2: NaN.
        var latents = Tensor.From([1, 2, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0], 4, 3);
        var ranking = F1Ranking.Fit(latents, ["A", "A", "B", "B"]);
        Assert.Equal(1.0, ranking.Scores["A"][0], 12);
        Assert.Equal(0.5, ranking.Scores["A"][1], 12);
        Assert.True(double.IsNaN(ranking.Scores["A"][2]) && double.IsNaN(ranking.Scores["B"][0]));
        Assert.Equal([0, 1, 2], ranking.Ranking("A"));
        Assert.Equal([1, 0, 2], ranking.Ranking("B"));
        Assert.Equal([0, 1, 2], ranking.Ranking("never seen"));
        Assert.Equal([1], ranking.FirstActive("A", [0f, 5f, 3f], 1));
        Assert.Equal([1, 2], ranking.FirstActive("A", [0f, 5f, 3f], 5));   // fewer active than asked: no padding
        // A negative magnitude (top-k without its ReLU) is active unless only positive ones count, as in the reference.
        Assert.Equal([0, 1], ranking.FirstActive("A", [-2f, 5f, 0f], 2));
        Assert.Equal([1], ranking.FirstActive("A", [-2f, 5f, 0f], 2, activeIfPositive: true));
    }

    [Fact]
    public void TheF1EditRemovesTheCleanValuesTopActiveLatentAndAddsTheCounterfactuals()
    {
        // Mary ↔ latent 0, John ↔ latent 1. Remove latent 0 from the clean (3, 2): −2·(1, 0); add latent 1 of the
        // counterfactual: +3·(0, 1). Edited (1, 5); removed weight w0 = 0.8.
        var sae = SaeExactValueTests.HandBuiltVanilla(3);
        var ranking = F1Ranking.Fit(Tensor.From([1, 0, 0, 0, 1, 0], 2, 3), ["Mary", "John"]);
        var edit = SaeEdits.ByF1(sae, Clean, Counterfactual, ["Mary"], ["John"], ranking, n: 1);
        Assert.Equal([1f, 5f], edit.Edited.Span.ToArray());
        Assert.Equal([0], edit.Removed[0]);
        Assert.Equal(0.8, SaeEdits.WeightRemoved(sae, Clean, edit.Removed)[0], 6);
    }
}
