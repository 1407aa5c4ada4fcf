using System.Globalization;
using System.Text;
using IoiBench.Runs;

namespace IoiBench.Reports;

/// <summary>A run's results as flat CSV tables, one per kind of result, for spreadsheets and dataframes.</summary>
public static class RunCsv
{
    public static IEnumerable<(string Name, string Text)> Files(RunResults run)
    {
        yield return ("edits.csv", Table("cross_section,attribute,method,variant,edit_accuracy,edit_accuracy_lo,edit_accuracy_hi,weight_removed,weight_removed_lo,weight_removed_hi,logit_diff,ioi_accuracy,prompts",
            run.Edits.Select(r => Row(r.CrossSection, A(r.Attribute), r.Method, r.Variant, F(r.EditAccuracy.Mean), F(r.EditAccuracy.Lower), F(r.EditAccuracy.Upper),
                F(r.WeightRemoved.Mean), F(r.WeightRemoved.Lower), F(r.WeightRemoved.Upper), F(r.LogitDiff.Mean), F(r.IoiAccuracy.Mean), r.EditAccuracy.Count))));
        yield return ("node_edits.csv", Table("cross_section,node,method,variant,edit_accuracy,edit_accuracy_lo,edit_accuracy_hi,weight_removed,weight_removed_lo,weight_removed_hi,prompts",
            run.NodeEdits.Select(r => Row(r.CrossSection, r.Node, r.Method, r.Variant, F(r.EditAccuracy.Mean), F(r.EditAccuracy.Lower), F(r.EditAccuracy.Upper),
                F(r.WeightRemoved.Mean), F(r.WeightRemoved.Lower), F(r.WeightRemoved.Upper), r.EditAccuracy.Count))));
        yield return ("selections.csv", Table("node,attribute,variant,edit_type,sae,epoch,selection_distance,test_distance,explained_variance,l0,supervised_cosine,best_f1,ld_recovered,spearman_distance_l0,spearman_distance_ld,candidates",
            run.Selections.OrderBy(s => s.Node.ToString(), StringComparer.Ordinal).ThenBy(s => s.Attribute).ThenBy(s => s.Variant, StringComparer.Ordinal)
                .ThenBy(s => s.EditType, StringComparer.Ordinal)
                .Select(s => Row(s.Node, A(s.Attribute), s.Variant, s.EditType, s.Sae, s.Epoch, F(s.SelectionDistance), F(s.TestDistance), F(s.ExplainedVariance), F(s.L0),
                    F(s.SupervisedCosine), F(s.BestF1), F(s.LdRecovered), F(s.SpearmanL0), F(s.SpearmanLd), s.Candidates))));
        yield return ("pathology.csv", Table("scope_kind,scope,attribute,method,sae,kl_reconstruction,kl_reconstruction_lo,kl_reconstruction_hi,kl_random,kl_random_lo,kl_random_hi,kl_ratio," +
                                             "ld_change_reconstruction,ld_change_random,ld_change_ratio,relative_error,prompts",
            run.Pathology.Select(p => Row(ScopeKinds.Name(p.Kind), p.Scope, A(p.Attribute), p.Method, p.Sae, F(p.Values.KlReconstruction.Mean), F(p.Values.KlReconstruction.Lower),
                F(p.Values.KlReconstruction.Upper), F(p.Values.KlRandom.Mean), F(p.Values.KlRandom.Lower), F(p.Values.KlRandom.Upper), F(p.Values.KlRatio),
                F(p.Values.LdChangeReconstruction.Mean), F(p.Values.LdChangeRandom.Mean), F(p.Values.LdChangeRatio), F(p.Values.RelativeError), p.Values.KlReconstruction.Count))));
        yield return ("probes.csv", Table("scope_kind,scope,attribute,method,k,features,classes,train_accuracy,test_accuracy,test_accuracy_lo,test_accuracy_hi,chosen",
            run.Probes.Select(p => Row(ScopeKinds.Name(p.Kind), p.Scope, A(p.Attribute), p.Method, p.K?.ToString(CultureInfo.InvariantCulture) ?? "all", p.Features, p.Classes,
                F(p.TrainAccuracy), F(p.TestAccuracy.Mean), F(p.TestAccuracy.Lower), F(p.TestAccuracy.Upper), string.Join(" ", p.Chosen)))));
        yield return ("recovery.csv", Table("scope_kind,scope,attribute,variant,value,best_f1,latents_f1_over_half,max_cosine",
            run.Recovery.Select(r => Row(ScopeKinds.Name(r.Kind), r.Scope, A(r.Attribute), r.Variant, r.Value, F(r.BestF1), F(r.Splitting), F(r.MaxCosine)))));
        yield return ("seeds.csv", Table("cross_section,method,variant,seed,edit_accuracy,weight_removed",
            SeedSpread.Rows(run).SelectMany(r => r.Values.Select(v => Row(r.CrossSection, r.Method, r.Variant, v.Seed, F(v.EditAccuracy), F(v.WeightRemoved))))));
    }

    private static string A(Prompts.IoiAttribute attribute) => attribute.ToString().ToLowerInvariant();

    private static string F(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Table(string header, IEnumerable<string> rows) => header + "\n" + string.Concat(rows.Select(r => r + "\n"));

    /// <summary>One CSV line; fields with a comma or quote are quoted.</summary>
    private static string Row(params object[] fields) => string.Join(",", fields.Select(f =>
    {
        string text = Convert.ToString(f, CultureInfo.InvariantCulture) ?? "";
        return text.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }));
}
