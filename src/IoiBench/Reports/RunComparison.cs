using IoiBench.Runs;

namespace IoiBench.Reports;

/// <summary>The largest absolute difference of one metric between two runs, over the rows both have, and where it is.</summary>
public sealed record MetricDifference(string Metric, double Largest, string Where, int Rows);

/// <summary>
/// Compares a run with a reference run of the same model, dataset and preset: per metric, the largest difference over
/// matching rows (edits by cross-section, method and variant; selections, probes and pathology by their scope).
/// Float rounding differs between CPUs, so a rerun elsewhere matches only approximately (docs/reproducibility.md).
/// </summary>
public static class RunComparison
{
    /// <summary>Why the two runs are not comparable, or null when they are.</summary>
    public static string? Incomparable(RunResults run, RunResults reference)
    {
        var (a, b) = (run.Provenance, reference.Provenance);
        if (a.ModelHash != b.ModelHash) return "the model differs";
        if (a.DatasetHash != b.DatasetHash) return "the dataset (prompts, seed or split sizes) differs";
        if (a.PresetHash != b.PresetHash) return "the preset differs";
        if (a.Selection != b.Selection) return "the selection rule differs";
        return null;
    }

    public static List<MetricDifference> Largest(RunResults run, RunResults reference)
    {
        var differences = new List<MetricDifference>();
        void Add<T>(string metric, IEnumerable<T> ours, IEnumerable<T> theirs, Func<T, string> key, Func<T, double> value)
        {
            var reference = theirs.GroupBy(key).ToDictionary(g => g.Key, g => value(g.First()));
            var pairs = ours.Where(r => reference.ContainsKey(key(r)))
                .Select(r => (Key: key(r), Difference: Math.Abs(value(r) - reference[key(r)])))
                .Where(p => !double.IsNaN(p.Difference)).ToList();
            if (pairs.Count == 0) return;
            var largest = pairs.MaxBy(p => p.Difference);
            differences.Add(new MetricDifference(metric, largest.Difference, largest.Key, pairs.Count));
        }
        static string Edit(EditResult e) => $"{e.CrossSection} {e.Method} {e.Variant}";
        Add("edit accuracy", run.Edits, reference.Edits, Edit, e => e.EditAccuracy.Mean);
        Add("weight removed", run.Edits, reference.Edits, Edit, e => e.WeightRemoved.Mean);
        Add("logit diff", run.Edits, reference.Edits, Edit, e => e.LogitDiff.Mean);
        Add("IOI accuracy", run.Edits, reference.Edits, Edit, e => e.IoiAccuracy.Mean);
        static string Selection(NodeSelection s) => $"{s.Node} {s.Attribute} {s.Variant}";
        Add("selected SAE's test distance", run.Selections, reference.Selections, Selection, s => s.TestDistance);
        Add("selected SAE's LD recovered", run.Selections, reference.Selections, Selection, s => s.LdRecovered);
        Add("KL ratio (error pathology)", run.Pathology, reference.Pathology, p => $"{p.Scope} {p.Method}", p => p.Values.KlRatio);
        Add("probe test accuracy", run.Probes, reference.Probes, p => $"{p.Scope} {p.Attribute} {p.Method} k={p.K}", p => p.TestAccuracy.Mean);
        Add("best F1 (feature recovery)", run.Recovery, reference.Recovery, r => $"{r.Scope} {r.Attribute} {r.Variant} {r.Value}", r => r.BestF1);
        return differences;
    }

    /// <summary>How many (node, attribute, variant) selections chose another SAE or checkpoint.</summary>
    public static int OtherSelections(RunResults run, RunResults reference)
    {
        var chosen = reference.Selections.ToDictionary(s => (s.Node, s.Attribute, s.Variant), s => (s.Sae, s.Epoch));
        return run.Selections.Count(s => chosen.TryGetValue((s.Node, s.Attribute, s.Variant), out var c) && c != (s.Sae, s.Epoch));
    }
}
