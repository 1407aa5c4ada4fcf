using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Tests.Sites;

public class SitesFileTests
{
    [Fact]
    public void Gpt2SmallHasTheReferences55NodesAndSixCrossSectionsAndFourWholeLayerOnes()
    {
        var sites = SitesFile.Load(Path.Combine(TestPaths.RepoRoot, "models", "gpt2-small", "sites.yaml"));
        Assert.Equal(55, sites.Nodes.Count(n => !n.HeadHook.WholeLayer));
        Assert.Equal(59, sites.Nodes.Distinct().Count());
        var sizes = sites.CrossSections.ToDictionary(c => c.Name, c => (c.Nodes.Count, c.Attribute));
        Assert.Equal((10, IoiAttribute.Io), sizes["nm+bnm@z"]);
        Assert.Equal((30, IoiAttribute.Pos), sizes["nm+bnm@qk"]);
        Assert.Equal((10, IoiAttribute.Pos), sizes["nm+bnm@q"]);
        Assert.Equal((4, IoiAttribute.Pos), sizes["si@z"]);
        Assert.Equal((4, IoiAttribute.Pos), sizes["si@v"]);
        Assert.Equal((7, IoiAttribute.Pos), sizes["ind+dt@z"]);
        Assert.Contains(new SiteNode(HookPoint.K, 10, 10, SemanticPosition.S1), sites.Nodes);
        Assert.Equal((1, IoiAttribute.Pos), sizes["resid@9-end"]);
        Assert.Equal((1, IoiAttribute.Io), sizes["resid@11-end"]);
        Assert.Equal((1, IoiAttribute.Pos), sizes["resid@7-s2"]);
        Assert.Equal((1, IoiAttribute.Io), sizes["l9@z"]);
    }

    [Fact]
    public void NodesRoundTripThroughText()
    {
        foreach (string text in new[] { "z@9.9@end", "k@10.10@s1", "v@8.6@s2", "q@0.1@s1+1", "z@3.0@io", "resid_pre@6@end",
                     "resid_mid@0@s2", "resid_post@11@end", "attn_out@9@end", "mlp_out@1@s2", "z@9@end" })
            Assert.Equal(text, SiteNode.Parse(text).ToString());
        Assert.Equal(new SiteNode(HookPoint.ResidPre, 6, HeadHook.AllHeads, SemanticPosition.End), SiteNode.Parse("resid_pre@6@end"));
        Assert.Equal(new SiteNode(HookPoint.Z, 9, HeadHook.AllHeads, SemanticPosition.End), SiteNode.Parse("z@9@end"));
        var gpt2 = new Gpt2Config(NLayer: 12, NHead: 12, DModel: 768, DMlp: 3072, VocabSize: 50257, NPositions: 1024, LayerNormEpsilon: 1e-5f);
        Assert.Equal(768, SiteNode.Parse("resid_post@3@end").Width(gpt2));
        Assert.Equal(768, SiteNode.Parse("z@9@end").Width(gpt2));
        Assert.Equal(64, SiteNode.Parse("z@9.9@end").Width(gpt2));
        Assert.Contains("without a head", Assert.Throws<InvalidInputException>(() => SiteNode.Parse("resid_pre@6.1@end")).Message);
        Assert.Contains("unknown hook 'pattern'", Assert.Throws<InvalidInputException>(() => SiteNode.Parse("pattern@1.2@end")).Message);
        Assert.Contains("unknown hook 'w'", Assert.Throws<InvalidInputException>(() => SiteNode.Parse("w@1.2@end")).Message);
        Assert.Contains("unknown position 'mid'", Assert.Throws<InvalidInputException>(() => SiteNode.Parse("z@1.2@mid")).Message);
    }

    [Fact]
    public void WrittenYamlLoadsBack()
    {
        using var dir = new TestPaths.TempDirectory();
        var original = SitesFile.Load(Path.Combine(TestPaths.RepoRoot, "models", "gpt2-small", "sites.yaml"));
        File.WriteAllText(dir.File("sites.yaml"), original.ToYaml("test\nheader"));
        var loaded = SitesFile.Load(dir.File("sites.yaml"));
        Assert.Equal(original.Nodes, loaded.Nodes);
        Assert.Equal(original.CrossSections.Select(c => (c.Name, c.Label, c.Attribute, string.Join(",", c.Nodes))),
                     loaded.CrossSections.Select(c => (c.Name, c.Label, c.Attribute, string.Join(",", c.Nodes))));
        Assert.Equal(original.HeadClasses["induction"], loaded.HeadClasses["induction"]);
    }

    [Theory]
    [InlineData("model: m\nnodes: [z@1.1@end]\ncross_sections:\n  - name: a\n    attribute: io\n    nodes: [z@1.2@end]\n", "sites.yaml:6", "not in 'nodes'")]
    [InlineData("model: m\nnodes: [z@1.1@end]\ncross_sections:\n  - name: a\n    attribute: who\n    nodes: [z@1.1@end]\n", "sites.yaml:5", "'who'")]
    [InlineData("model: m\nnode: [z@1.1@end]\n", "sites.yaml:2", "unknown key 'node'")]
    [InlineData("model: m\nnodes: [z@1.1@end, zz@1.1@end]\ncross_sections: []\n", "sites.yaml:2", "unknown hook 'zz'")]
    public void ErrorsNameTheLineAndTheProblem(string yaml, string where, string what)
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), yaml);
        var e = Assert.Throws<InvalidInputException>(() => SitesFile.Load(dir.File("sites.yaml")));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }
}
