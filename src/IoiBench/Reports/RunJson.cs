using System.Globalization;
using System.Text.Json;
using System.Text;
using IoiBench.Metrics;
using IoiBench.Prompts;
using IoiBench.Runs;
using IoiBench.Sites;

namespace IoiBench.Reports;

/// <summary>
/// <c>run.json</c>: a run's provenance and every result, in one versioned file. Writer and reader live together so
/// that they stay in step; NaN is written as null.
/// </summary>
public static class RunJson
{
    /// <summary>
    /// Version 3 added <c>excluded</c>, <c>seeds</c>, each SAE edit's <c>seed</c>, the other seeds' rows (<c>seed_edits</c>)
    /// and the <c>seed_spread</c> derived from them (not read back: it is recomputed); files of version 2 still read.
    /// Version 5 gave each <c>recovery</c> row a scope (a node's rows, then each cross-section's means over its nodes)
    /// where it had a <c>cross_section</c>. Optional sections that later runs add (<c>imported_saes</c>,
    /// <c>candidate_scores</c>, <c>cross_sections</c>, <c>supervised_dictionaries</c>, <c>das_training</c>,
    /// <c>node_edits</c>) are read as empty where absent.
    /// </summary>
    public const int SchemaVersion = 5;

    public static string Write(RunResults run)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            void Number(string name, double v)
            {
                if (double.IsNaN(v) || double.IsInfinity(v)) json.WriteNull(name);
                else json.WriteNumber(name, v);
            }
            void Interval(string name, Estimate e)
            {
                json.WriteStartObject(name);
                Number("mean", e.Mean); Number("lower", e.Lower); Number("upper", e.Upper); json.WriteNumber("n", e.Count);
                json.WriteEndObject();
            }
            void Array<T>(string name, IEnumerable<T> items, Action<T> write)
            {
                json.WriteStartArray(name);
                foreach (var item in items)
                {
                    json.WriteStartObject();
                    write(item);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            string A(IoiAttribute a) => a.ToString().ToLowerInvariant();

            var p = run.Provenance;
            json.WriteStartObject();
            json.WriteNumber("schema_version", SchemaVersion);
            json.WriteStartObject("provenance");
            json.WriteString("run_id", p.RunId);
            json.WriteString("model", p.Model);
            json.WriteString("model_hash", p.ModelHash);
            json.WriteString("dataset_hash", p.DatasetHash);
            json.WriteNumber("seed", p.Seed);
            json.WriteString("preset", p.Preset);
            json.WriteString("preset_hash", p.PresetHash);
            json.WriteString("selection", p.Selection);
            json.WriteString("sae_training", p.SaeTraining);
            json.WriteString("basis", p.Basis);
            json.WriteString("version", p.Version);
            json.WriteString("finished", p.Finished.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteStartArray("seeds");
            foreach (ulong seed in run.Seeds) json.WriteNumberValue(seed);
            json.WriteEndArray();
            void Edit(EditResult r)
            {
                json.WriteString("cross_section", r.CrossSection);
                json.WriteString("label", r.Label);
                json.WriteString("attribute", A(r.Attribute));
                json.WriteString("method", r.Method);
                json.WriteString("variant", r.Variant);
                Interval("edit_accuracy", r.EditAccuracy);
                Interval("weight_removed", r.WeightRemoved);
                Interval("logit_diff", r.LogitDiff);
                Interval("ioi_accuracy", r.IoiAccuracy);
                if (r.Seed is { } seed) json.WriteNumber("seed", seed);
                else json.WriteNull("seed");
            }
            Array("edits", run.Edits, Edit);
            Array("seed_edits", run.SeedEdits, Edit);
            json.WriteStartObject("seed_spread");
            Array("rows", SeedSpread.Rows(run), r =>
            {
                json.WriteString("cross_section", r.CrossSection);
                json.WriteString("method", r.Method);
                json.WriteString("variant", r.Variant);
                json.WriteNumber("seeds", r.Values.Count);
                Number("edit_accuracy_sd", r.EditAccuracySd);
                Number("edit_accuracy_min", r.EditAccuracyRange.Min);
                Number("edit_accuracy_max", r.EditAccuracyRange.Max);
                Number("weight_removed_sd", r.WeightRemovedSd);
                Number("weight_removed_min", r.WeightRemovedRange.Min);
                Number("weight_removed_max", r.WeightRemovedRange.Max);
            });
            Array("rank_stability", SeedSpread.Stability(run), r =>
            {
                json.WriteString("cross_section", r.CrossSection);
                Number("kendall_tau", r.KendallTau);
                json.WriteNumber("seed_pairs", r.SeedPairs);
                json.WriteNumber("rows", r.Rows);
            });
            json.WriteEndObject();
            Array("selections", run.Selections, s =>
            {
                json.WriteString("node", s.Node.ToString());
                json.WriteString("attribute", A(s.Attribute));
                json.WriteString("variant", s.Variant);
                json.WriteString("edit_type", s.EditType);
                json.WriteNumber("seed", s.Seed);
                json.WriteString("sae", s.Sae);
                json.WriteNumber("epoch", s.Epoch);
                json.WriteString("directory", s.Directory);
                Number("selection_distance", s.SelectionDistance);
                Number("test_distance", s.TestDistance);
                Number("explained_variance", s.ExplainedVariance);
                Number("l0", s.L0);
                Number("supervised_cosine", s.SupervisedCosine);
                Number("best_f1", s.BestF1);
                Number("ld_recovered", s.LdRecovered);
                Number("spearman_distance_l0", s.SpearmanL0);
                Number("spearman_distance_ld", s.SpearmanLd);
                json.WriteNumber("candidates", s.Candidates);
                json.WriteStartArray("candidate_scores");
                foreach (var c in s.CandidateScores)
                {
                    json.WriteStartObject();
                    json.WriteString("sae", c.Sae);
                    json.WriteNumber("epoch", c.Epoch);
                    Number("distance", c.Distance);
                    Number("l0", c.L0);
                    Number("ld_recovered", c.LdRecovered);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            });
            Array("pathology", run.Pathology, r =>
            {
                json.WriteString("scope_kind", ScopeKinds.Name(r.Kind));
                json.WriteString("scope", r.Scope);
                json.WriteString("attribute", A(r.Attribute));
                json.WriteString("method", r.Method);
                json.WriteString("sae", r.Sae);
                Interval("kl_reconstruction", r.Values.KlReconstruction);
                Interval("kl_random", r.Values.KlRandom);
                Number("kl_ratio", r.Values.KlRatio);
                Interval("ld_change_reconstruction", r.Values.LdChangeReconstruction);
                Interval("ld_change_random", r.Values.LdChangeRandom);
                Number("ld_change_ratio", r.Values.LdChangeRatio);
                Number("relative_error", r.Values.RelativeError);
            });
            Array("probes", run.Probes, r =>
            {
                json.WriteString("scope_kind", ScopeKinds.Name(r.Kind));
                json.WriteString("scope", r.Scope);
                json.WriteString("attribute", A(r.Attribute));
                json.WriteString("method", r.Method);
                if (r.K is { } k) json.WriteNumber("k", k);
                else json.WriteNull("k");
                json.WriteNumber("features", r.Features);
                json.WriteNumber("classes", r.Classes);
                json.WriteStartArray("chosen");
                foreach (string c in r.Chosen) json.WriteStringValue(c);
                json.WriteEndArray();
                Number("train_accuracy", r.TrainAccuracy);
                Interval("test_accuracy", r.TestAccuracy);
            });
            Array("recovery", run.Recovery, r =>
            {
                json.WriteString("scope_kind", ScopeKinds.Name(r.Kind));
                json.WriteString("scope", r.Scope);
                json.WriteString("attribute", A(r.Attribute));
                json.WriteString("variant", r.Variant);
                json.WriteString("value", r.Value);
                Number("best_f1", r.BestF1);
                Number("latents_f1_over_half", r.Splitting);
                Number("max_cosine", r.MaxCosine);
            });
            Array("node_edits", run.NodeEdits, r =>
            {
                json.WriteString("cross_section", r.CrossSection);
                json.WriteString("node", r.Node);
                json.WriteString("method", r.Method);
                json.WriteString("variant", r.Variant);
                Interval("edit_accuracy", r.EditAccuracy);
                Interval("weight_removed", r.WeightRemoved);
            });
            Array("excluded", run.Excluded, x =>
            {
                json.WriteString("node", x.Node);
                json.WriteString("variant", x.Variant);
                json.WriteString("sae", x.Sae);
                json.WriteString("reason", x.Reason);
            });
            Array("imported_saes", run.Imported, x =>
            {
                json.WriteString("name", x.Name);
                json.WriteString("format", x.Format);
                json.WriteString("hook", x.Hook);
                json.WriteString("basis", x.Basis);
                json.WriteString("directory", x.Directory);
                json.WriteString("file_hash", x.FileHash);
                json.WriteStartArray("nodes");
                foreach (string node in x.Nodes) json.WriteStringValue(node);
                json.WriteEndArray();
            });
            Array("cross_sections", run.CrossSections, x =>
            {
                json.WriteString("name", x.Name);
                json.WriteString("label", x.Label);
                json.WriteString("attribute", A(x.Attribute));
                json.WriteStartArray("nodes");
                foreach (var node in x.Nodes) json.WriteStringValue(node.ToString());
                json.WriteEndArray();
            });
            Array("supervised_dictionaries", run.Dictionaries, x =>
            {
                json.WriteString("node", x.Node.ToString());
                Number("explained_variance", x.ExplainedVariance);
                Number("relative_error", x.RelativeError);
                Number("io_weight", x.IoWeight);
                Number("s_weight", x.SWeight);
                Number("pos_weight", x.PosWeight);
            });
            Array("das_training", run.DasTraining, x =>
            {
                json.WriteString("cross_section", x.CrossSection);
                json.WriteNumber("dimensions", x.Dimensions);
                json.WriteNumber("train_prompts", x.TrainPrompts);
                json.WriteNumber("validation_prompts", x.ValidationPrompts);
                json.WriteNumber("epochs", x.Epochs);
                json.WriteNumber("steps", x.Steps);
                json.WriteNumber("prompt_passes", x.PromptPasses);
                Number("initial_validation_loss", x.InitialValidationLoss);
                Number("validation_loss", x.ValidationLoss);
                Number("seconds", x.Seconds);
            });
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A run back from its directory or its run.json; any defect is an error naming the file.</summary>
    public static RunResults Read(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "run.json");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found (a run directory holds run.json).");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            int version = root.GetProperty("schema_version").GetInt32();
            if (version is < 2 or > SchemaVersion)
                throw new InvalidInputException($"{path}: schema_version {version}; this IoiBench reads versions 2 to {SchemaVersion} (rerun `ioibench run` to rewrite it).");
            var p = root.GetProperty("provenance");
            var provenance = new RunProvenance(S(p, "run_id"), S(p, "model"), S(p, "model_hash"), S(p, "dataset_hash"), p.GetProperty("seed").GetUInt64(),
                S(p, "preset"), S(p, "preset_hash"), S(p, "selection"), S(p, "version"), DateTimeOffset.Parse(S(p, "finished"), CultureInfo.InvariantCulture),
                p.TryGetProperty("sae_training", out var training) ? training.GetString() ?? "unknown" : "unknown")
            {
                Basis = p.TryGetProperty("basis", out var basis) ? basis.GetString() ?? "processed" : "processed",
            };
            EditResult Edit(JsonElement e) => new(S(e, "cross_section"), S(e, "label"), Attribute(e), S(e, "method"), S(e, "variant"),
                Interval(e, "edit_accuracy"), Interval(e, "weight_removed"), Interval(e, "logit_diff"), Interval(e, "ioi_accuracy"))
            {
                // Version 2 trained one seed, which it did not record: its SAE rows count as seed 0 (the bundled presets').
                Seed = e.TryGetProperty("seed", out var seed) ? seed.ValueKind == JsonValueKind.Number ? seed.GetUInt64() : null
                    : e.GetProperty("method").GetString() is "agnostic" or "aware" ? 0 : null,
            };
            var edits = Items(root, "edits", Edit);
            var selections = Items(root, "selections", s => new NodeSelection(SiteNode.Parse(S(s, "node")), Attribute(s), S(s, "variant"), S(s, "sae"),
                s.GetProperty("epoch").GetInt32(), S(s, "directory"), D(s, "selection_distance"), D(s, "test_distance"), D(s, "explained_variance"), D(s, "l0"),
                D(s, "supervised_cosine"), D(s, "best_f1"), D(s, "ld_recovered"), D(s, "spearman_distance_l0"), D(s, "spearman_distance_ld"),
                s.GetProperty("candidates").GetInt32())
            {
                EditType = s.TryGetProperty("edit_type", out var type) ? type.GetString() ?? "both" : "both",
                Seed = s.TryGetProperty("seed", out var seed) ? seed.GetUInt64() : 0,
                CandidateScores = s.TryGetProperty("candidate_scores", out _)
                    ? Items(s, "candidate_scores", c => new CandidateScore(S(c, "sae"), c.GetProperty("epoch").GetInt32(), D(c, "distance"),
                        D(c, "l0"), D(c, "ld_recovered")))
                    : [],
            });
            var pathology = Items(root, "pathology", r => new PathologyResult(Kind(r), S(r, "scope"), Attribute(r), S(r, "method"), S(r, "sae"),
                new Pathology(Interval(r, "kl_reconstruction"), Interval(r, "kl_random"), D(r, "kl_ratio"), Interval(r, "ld_change_reconstruction"),
                    Interval(r, "ld_change_random"), D(r, "ld_change_ratio"), D(r, "relative_error"))));
            var probes = Items(root, "probes", r => new ProbeResult(Kind(r), S(r, "scope"), Attribute(r), S(r, "method"),
                r.GetProperty("k").ValueKind == JsonValueKind.Null ? null : r.GetProperty("k").GetInt32(), r.GetProperty("features").GetInt32(),
                r.GetProperty("classes").GetInt32(), [.. r.GetProperty("chosen").EnumerateArray().Select(c => c.GetString()!)], D(r, "train_accuracy"),
                Interval(r, "test_accuracy")));
            // Before version 5 recovery held the cross-sections' rows only, under "cross_section".
            var recovery = Items(root, "recovery", r => new RecoveryResult(
                version < 5 ? ScopeKind.CrossSection : Kind(r), version < 5 ? S(r, "cross_section") : S(r, "scope"), Attribute(r),
                S(r, "variant"), S(r, "value"), D(r, "best_f1"), D(r, "latents_f1_over_half"), D(r, "max_cosine")));
            var excluded = root.TryGetProperty("excluded", out _)
                ? Items(root, "excluded", x => new ExcludedSae(S(x, "node"), S(x, "variant"), S(x, "sae"), S(x, "reason"))) : [];
            return new RunResults(provenance, edits, selections, pathology, probes, recovery)
            {
                Excluded = excluded,
                Seeds = root.TryGetProperty("seeds", out var seeds) ? [.. seeds.EnumerateArray().Select(s => s.GetUInt64())] : [0],
                SeedEdits = root.TryGetProperty("seed_edits", out _) ? Items(root, "seed_edits", Edit) : [],
                Imported = root.TryGetProperty("imported_saes", out _)
                    ? Items(root, "imported_saes", x => new ImportedSaeRecord(S(x, "name"), S(x, "format"), S(x, "hook"), S(x, "basis"), S(x, "directory"),
                        S(x, "file_hash"), [.. x.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()!)]))
                    : [],
                CrossSections = root.TryGetProperty("cross_sections", out _)
                    ? Items(root, "cross_sections", x => new CrossSection(S(x, "name"), S(x, "label"), Attribute(x),
                        [.. x.GetProperty("nodes").EnumerateArray().Select(n => SiteNode.Parse(n.GetString()!))]))
                    : [],
                Dictionaries = root.TryGetProperty("supervised_dictionaries", out _)
                    ? Items(root, "supervised_dictionaries", x => new DictionaryQuality(SiteNode.Parse(S(x, "node")), D(x, "explained_variance"),
                        D(x, "relative_error"), D(x, "io_weight"), D(x, "s_weight"), D(x, "pos_weight")))
                    : [],
                NodeEdits = root.TryGetProperty("node_edits", out _)
                    ? Items(root, "node_edits", x => new NodeEditResult(S(x, "cross_section"), S(x, "node"), S(x, "method"), S(x, "variant"),
                        Interval(x, "edit_accuracy"), Interval(x, "weight_removed")))
                    : [],
                DasTraining = root.TryGetProperty("das_training", out _)
                    ? Items(root, "das_training", x => new DasTrainingRecord(S(x, "cross_section"), x.GetProperty("dimensions").GetInt32(),
                        x.GetProperty("train_prompts").GetInt32(), x.GetProperty("validation_prompts").GetInt32(), x.GetProperty("epochs").GetInt32(),
                        x.GetProperty("steps").GetInt32(), x.GetProperty("prompt_passes").GetInt64(), D(x, "initial_validation_loss"),
                        D(x, "validation_loss"), D(x, "seconds")))
                    : [],
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidInputException($"{path}: not a run.json of schema {SchemaVersion} ({e.Message}).", e);
        }
    }

    private static List<T> Items<T>(JsonElement root, string name, Func<JsonElement, T> read) => [.. root.GetProperty(name).EnumerateArray().Select(read)];

    private static string S(JsonElement e, string name) => e.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null.");

    private static double D(JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? double.NaN : e.GetProperty(name).GetDouble();

    private static IoiAttribute Attribute(JsonElement e) => Enum.Parse<IoiAttribute>(S(e, "attribute"), ignoreCase: true);

    private static ScopeKind Kind(JsonElement e) => ScopeKinds.Parse(S(e, "scope_kind"));

    private static Estimate Interval(JsonElement e, string name)
    {
        var interval = e.GetProperty(name);
        return new Estimate(D(interval, "mean"), D(interval, "lower"), D(interval, "upper"), interval.GetProperty("n").GetInt32());
    }
}
