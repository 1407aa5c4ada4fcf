using IoiBench.Behaviour;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Circuit;

/// <summary>
/// Finds a model's IOI circuit: every head is mean-ablated (over the same prompts) at every position and at each
/// semantic position, and the drop in mean logit difference is recorded with the head's attention at end and s2.
/// Heads whose ablation matters (in either direction) are classed by analogy with Wang et al. (2023):
/// name movers (matter at end, attend end→io), S-inhibition (help at end, attend end→s2),
/// induction (help at s2, attend s2→s1+1), duplicate-token heads (help at s2, attend s2→s1), and — for circuits
/// unlike GPT-2's — S2-context heads (help at s2 while attending to neither s1 nor s1+1).
/// </summary>
public static class CircuitAnalysis
{
    public const string NameMover = "name_mover", SInhibition = "s_inhibition", Induction = "induction", DuplicateToken = "duplicate_token",
        S2Context = "s2_context";

    /// <summary>A head matters at a scope when ablating it there costs at least this fraction of the clean logit difference.</summary>
    public const double ImportanceFraction = 0.05;

    /// <summary>The least mean attention to the position that defines a class.</summary>
    public const double AttentionThreshold = 0.3;

    public sealed record Result(double CleanLogitDiff, IReadOnlyList<HeadReport> Heads);

    public static Result Analyse(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts, IProgress<ProgressUpdate>? progress = null)
    {
        var cfg = model.Config;
        double clean = IoiMetrics.From(PromptRunner.Score(model, prompts)).LogitDiff;
        var means = MeanHeadOutputs.Compute(model, prompts, progress);
        var attention = AttentionProfiles(model, prompts);

        var heads = new List<HeadReport>();
        var scopes = Enum.GetValues<AblationScope>();
        int total = cfg.NLayer * cfg.NHead * scopes.Length, done = 0;
        for (int l = 0; l < cfg.NLayer; l++)
            for (int h = 0; h < cfg.NHead; h++)
            {
                var head = new HeadRef(l, h);
                var drops = new Dictionary<AblationScope, double>();
                foreach (var scope in scopes)
                {
                    var ablation = new HeadAblation([head], scope.Position());
                    drops[scope] = clean - IoiMetrics.From(PromptRunner.Score(model, prompts, b => ablation.Hooks(b, means, cfg))).LogitDiff;
                    progress?.Report(new ProgressUpdate("ablating heads", ++done, total));
                }
                var report = new HeadReport(head, drops, attention[l, h]);
                heads.Add(report with { Class = Classify(report, clean) });
            }
        return new Result(clean, heads);
    }

    private static string? Classify(HeadReport r, double clean)
    {
        double threshold = ImportanceFraction * Math.Abs(clean);
        var a = r.Attention;
        double atEnd = r.LogitDiffDrop[AblationScope.End], atS2 = r.LogitDiffDrop[AblationScope.S2];
        if (Math.Abs(atEnd) >= threshold && a.EndToIo >= AttentionThreshold && a.EndToIo >= a.EndToS2) return NameMover;
        if (atEnd >= threshold && a.EndToS2 >= AttentionThreshold) return SInhibition;
        if (atS2 >= threshold)
        {
            if (a.S2ToS1Plus1 >= AttentionThreshold && a.S2ToS1Plus1 >= a.S2ToS1) return Induction;
            if (a.S2ToS1 >= AttentionThreshold) return DuplicateToken;
            return S2Context;
        }
        return null;
    }

    private static AttentionProfile[,] AttentionProfiles(ITransformer model, IReadOnlyList<TokenizedPrompt> prompts)
    {
        var cfg = model.Config;
        var sums = new double[cfg.NLayer, cfg.NHead, 5];
        foreach (var batch in PromptRunner.Batches(prompts))
        {
            var hooks = new HookSet();
            var atEnd = new ActivationCapture[cfg.NLayer, cfg.NHead];
            var atS2 = new ActivationCapture[cfg.NLayer, cfg.NHead];
            for (int l = 0; l < cfg.NLayer; l++)
                for (int h = 0; h < cfg.NHead; h++)
                {
                    atEnd[l, h] = hooks.Capture(new HeadHook(HookPoint.Pattern, l, h), batch.Prompts.Select(p => p.Positions.End).ToArray());
                    atS2[l, h] = hooks.Capture(new HeadHook(HookPoint.Pattern, l, h), batch.Prompts.Select(p => p.Positions.S2).ToArray());
                }
            model.Forward(batch.Tokens, logitPositions: [], hooks);
            for (int l = 0; l < cfg.NLayer; l++)
                for (int h = 0; h < cfg.NHead; h++)
                    for (int b = 0; b < batch.Prompts.Count; b++)
                    {
                        var p = batch.Prompts[b].Positions;
                        var end = atEnd[l, h].Row(b);
                        var s2 = atS2[l, h].Row(b);
                        sums[l, h, 0] += end[p.Io]; sums[l, h, 1] += end[p.S1]; sums[l, h, 2] += end[p.S2];
                        sums[l, h, 3] += s2[p.S1]; sums[l, h, 4] += s2[p.S1Plus1];
                    }
        }
        var profiles = new AttentionProfile[cfg.NLayer, cfg.NHead];
        double n = prompts.Count;
        for (int l = 0; l < cfg.NLayer; l++)
            for (int h = 0; h < cfg.NHead; h++)
                profiles[l, h] = new AttentionProfile(sums[l, h, 0] / n, sums[l, h, 1] / n, sums[l, h, 2] / n, sums[l, h, 3] / n, sums[l, h, 4] / n);
        return profiles;
    }

    /// <summary>
    /// The reference's node recipe applied to the classes found: z and q of name movers at end, k of name movers at io
    /// and s1, z of S-inhibition heads at end and their v at s2, z of induction and duplicate-token heads at s2; and the
    /// six cross-sections (IO in name-mover outputs, Pos elsewhere; S2-context heads join the induction and
    /// duplicate-token heads at s2). Cross-sections whose heads are missing are left out.
    /// </summary>
    public static SitesFile ProposeSites(string modelName, Result result)
    {
        List<HeadRef> Of(string name) => result.Heads.Where(h => h.Class == name)
            .OrderByDescending(h => h.LogitDiffDrop[AblationScope.All]).Select(h => h.Head).ToList();
        var nm = Of(NameMover); var si = Of(SInhibition); var ind = Of(Induction); var dt = Of(DuplicateToken); var s2 = Of(S2Context);
        SiteNode Node(HookPoint hook, HeadRef h, SemanticPosition p) => new(hook, h.Layer, h.Head, p);

        var groups = new (string Name, string Label, IoiAttribute Attribute, List<SiteNode> Nodes)[]
        {
            ("nm@z", "NM out", IoiAttribute.Io, nm.Select(h => Node(HookPoint.Z, h, SemanticPosition.End)).ToList()),
            ("nm@qk", "NM qk", IoiAttribute.Pos, [.. nm.Select(h => Node(HookPoint.Q, h, SemanticPosition.End)),
                .. nm.Select(h => Node(HookPoint.K, h, SemanticPosition.Io)), .. nm.Select(h => Node(HookPoint.K, h, SemanticPosition.S1))]),
            ("nm@q", "NM q", IoiAttribute.Pos, nm.Select(h => Node(HookPoint.Q, h, SemanticPosition.End)).ToList()),
            ("si@z", "S-I out", IoiAttribute.Pos, si.Select(h => Node(HookPoint.Z, h, SemanticPosition.End)).ToList()),
            ("si@v", "S-I v", IoiAttribute.Pos, si.Select(h => Node(HookPoint.V, h, SemanticPosition.S2)).ToList()),
            ("ind+dt@z", "Ind+DT out", IoiAttribute.Pos, ind.Concat(dt).Concat(s2).Select(h => Node(HookPoint.Z, h, SemanticPosition.S2)).ToList()),
        };
        var crossSections = groups.Where(g => g.Nodes.Count > 0).Select(g => new CrossSection(g.Name, g.Label, g.Attribute, g.Nodes)).ToList();
        return new SitesFile
        {
            Model = modelName,
            HeadClasses = new Dictionary<string, IReadOnlyList<string>>
            {
                [NameMover] = nm.Select(h => h.ToString()).ToList(),
                [SInhibition] = si.Select(h => h.ToString()).ToList(),
                [Induction] = ind.Select(h => h.ToString()).ToList(),
                [DuplicateToken] = dt.Select(h => h.ToString()).ToList(),
                [S2Context] = s2.Select(h => h.ToString()).ToList(),
            },
            Nodes = crossSections.SelectMany(c => c.Nodes).Distinct().ToList(),
            CrossSections = crossSections,
        };
    }
}
