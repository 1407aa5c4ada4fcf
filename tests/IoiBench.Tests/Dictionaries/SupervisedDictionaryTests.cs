using IoiBench.Dictionaries;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Tests.Dictionaries;

public class SupervisedDictionaryTests
{
    private static readonly IoiTemplate Template = new("t", "test", "Then, {A} and {B} left. {S} said to");

    private static IoiPrompt Prompt(string io, string s, bool ioFirst) => new(Template, 0, ioFirst, io, s, "x", "y");

    // Four prompts with 2-d activations, small enough to work out by hand:
    //   p0 IO=A S=B Pos=0 (1,0);  p1 IO=A S=C Pos=1 (3,2);  p2 IO=D S=B Pos=0 (0,4);  p3 IO=D S=C Pos=1 (4,2).
    private static readonly IoiPrompt[] Prompts = [Prompt("A", "B", true), Prompt("A", "C", false), Prompt("D", "B", true), Prompt("D", "C", false)];
    private static readonly Tensor Activations = Tensor.From([1, 0, 3, 2, 0, 4, 4, 2], 4, 2);
    private static readonly SupervisedDictionary Dictionary = SupervisedDictionary.Fit(SiteNode.Parse("z@0.0@end"), Activations, Prompts);

    [Fact]
    public void CodesAreConditionalMeansOfTheCentredActivation()
    {
        Assert.Equal([2f, 2f], Dictionary.Mean);                    // μ
        Assert.Equal([0f, -1f], Dictionary.Code(IoiAttribute.Io, "A").ToArray());   // mean of (−1,−2) and (1,0)
        Assert.Equal([0f, 1f], Dictionary.Code(IoiAttribute.Io, "D").ToArray());    // mean of (−2,2) and (2,0)
        Assert.Equal([-1.5f, 0f], Dictionary.Code(IoiAttribute.S, "B").ToArray());  // mean of (−1,−2) and (−2,2)
        Assert.Equal([1.5f, 0f], Dictionary.Code(IoiAttribute.S, "C").ToArray());
        Assert.Equal([-1.5f, 0f], Dictionary.Code(IoiAttribute.Pos, "0").ToArray());
        Assert.Equal([1.5f, 0f], Dictionary.Code(IoiAttribute.Pos, "1").ToArray());
        Assert.Equal(["A", "D"], Dictionary.Values(IoiAttribute.Io).Order());
    }

    [Fact]
    public void ReconstructionWeightsAndEditFollowTheDefinitions()
    {
        // â(p0) = (2,2) + (0,−1) + (−1.5,0) + (−1.5,0) = (−1,1); r = (−3,−1), ‖r‖² = 10.
        Assert.Equal([-1f, 1f], Dictionary.Reconstruct(Prompts[0]));
        var w = Dictionary.Weights(Prompts[0]);
        Assert.Equal(0.1, w[IoiAttribute.Io], 12);    // ⟨(0,−1),(−3,−1)⟩ / 10
        Assert.Equal(0.45, w[IoiAttribute.S], 12);    // ⟨(−1.5,0),(−3,−1)⟩ / 10
        Assert.Equal(0.45, w[IoiAttribute.Pos], 12);
        Assert.Equal(1.0, w.Values.Sum(), 12);

        float[] a = [1f, 0f];
        Dictionary.Edit(a, IoiAttribute.Io, "A", "D");   // (1,0) − (0,−1) + (0,1)
        Assert.Equal([1f, 2f], a);
    }

    [Fact]
    public void UnknownValuesAreNamed()
    {
        var e = Assert.Throws<InvalidInputException>(() => Dictionary.Code(IoiAttribute.Io, "Zed").ToArray());
        Assert.Contains("z@0.0@end", e.Message);
        Assert.Contains("'Zed'", e.Message);
    }

    [Fact]
    public void ReconstructionQualityByHand()
    {
        // x = [(1,0),(3,2)], x̂ = [(1,1),(3,2)]: residual 1, total variance around (2,1) is 4.
        var quality = ReconstructionQuality.Measure(Tensor.From([1, 0, 3, 2], 2, 2), Tensor.From([1, 1, 3, 2], 2, 2));
        Assert.Equal(0.75, quality.ExplainedVariance, 12);
        Assert.Equal(0.25, quality.Mse, 12);
        Assert.Equal((1 / Math.Sqrt(2) + 1) / 2, quality.Cosine, 12);
    }
}
