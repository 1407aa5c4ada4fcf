using System.CommandLine;
using IoiBench.Model;
using IoiBench.Pipeline;
using IoiBench.Runs;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench score --saes DIR [DIR ...]</c>: the benchmark on SAEs trained elsewhere (SAELens, sparsify, or IoiBench's
/// own folders) instead of a preset's sweep; each SAE reads every node at its hook, and becomes leaderboard rows named
/// after its folder beside the supervised features (<see cref="BenchmarkRun"/>, docs/scoring.md).
/// </summary>
internal static class ScoreCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var siteOptions = new SiteOptions("GPT-2 runs (activations, edits, pathology)", basisFallback: null,
            basisNote: "; default: the SAEs' own (SAELens: transformerlens, sparsify: raw, IoiBench: as recorded)");
        var saes = new Option<string[]>("--saes")
        {
            Description = "SAE folders: each an SAE (cfg.json with sae_weights.safetensors or sae.safetensors) or a " +
                          "folder of them",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string?>("--output")
        {
            Description = "Run directory (default: runs/MODEL-score, 'embedded-score' for the embedded model)",
        };
        var readouts = new ReadoutOptions();
        var format = CommonOptions.Format();
        var command = new Command("score",
            "Score SAEs trained elsewhere on the benchmark and write runs/RUN-ID (leaderboard.md, report.html, run.json, CSVs)")
            { saes, output };
        readouts.AddTo(command);
        command.Options.Add(format);
        siteOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var directories = parse.GetValue(saes)!;
            var source = siteOptions.Source(parse, () => SaeImport.CommonBasis(directories));
            bool embedded = Path.GetFullPath(source.ModelDirectory) == Path.GetFullPath(Defaults.EmbeddedModel);
            string runId = $"{(embedded ? "embedded" : source.ModelName)}-score";
            string directory = Defaults.Writable(parse.GetValue(output) ?? Path.Combine("runs", runId), "--output");
            var options = readouts.Apply(new BenchmarkOptions(source, null, directory, runId)
            {
                SaeDirectories = directories,
                // One candidate per SAE and node: there is nothing to choose, and test is what is scored.
                Selection = SelectionRule.Oracle,
            }, parse);
            RunResults results;
            using (var progress = new ConsoleProgress(stderr)) results = BenchmarkRun.Run(options, progress);
            if (format.Get(parse) == OutputFormat.Json) WriteJson(results, Sites.SitesFile.Load(source.SitesPath).CrossSections, stdout);
            else WriteText(results, directory, stdout);
            return 0;
        });
        return command;
    }

    /// <summary>One line per (SAE, node): its test L0 and explained variance, and its edits on each cross-section holding the node.</summary>
    private static void WriteJson(RunResults results, IReadOnlyList<Sites.CrossSection> crossSections, TextWriter stdout)
    {
        foreach (var sae in results.Imported)
            foreach (string node in sae.Nodes)
            {
                var selection = results.Selections.First(s => s.Variant == sae.Name && s.Node.ToString() == node);
                var sections = crossSections.Where(c => c.Nodes.Any(n => n.ToString() == node)).Select(c => c.Name).ToHashSet();
                stdout.WriteLine(CommonOptions.JsonLine(j =>
                {
                    j.WriteString("sae", sae.Name);
                    j.WriteString("node", node);
                    j.WriteString("format", sae.Format);
                    j.WriteString("basis", results.Provenance.Basis);
                    j.WriteString("file_hash", sae.FileHash);
                    j.Number("l0", selection.L0);
                    j.Number("explained_variance", selection.ExplainedVariance);
                    j.WriteStartArray("cross_sections");
                    foreach (var edit in results.Edits.Where(e => e.Variant == sae.Name && sections.Contains(e.CrossSection)))
                    {
                        j.WriteStartObject();
                        j.WriteString("cross_section", edit.CrossSection);
                        j.WriteString("attribute", edit.Attribute.ToString().ToLowerInvariant());
                        j.WriteString("method", edit.Method);
                        j.Number("edit_accuracy", edit.EditAccuracy.Mean);
                        j.Number("weight_removed", edit.WeightRemoved.Mean);
                        j.WriteEndObject();
                    }
                    j.WriteEndArray();
                }));
            }
    }

    private static void WriteText(RunResults results, string directory, TextWriter stdout)
    {
        stdout.WriteLine($"{"sae",-28} {"node",-20} {"L0",7} {"EV",7}");
        foreach (var sae in results.Imported)
        {
            if (sae.Nodes.Count == 0) stdout.WriteLine($"{sae.Name,-28} {"(no node at " + sae.Hook + ")",-20}");
            foreach (string node in sae.Nodes)
            {
                var s = results.Selections.First(x => x.Variant == sae.Name && x.Node.ToString() == node);
                stdout.WriteLine($"{sae.Name,-28} {node,-20} {s.L0,7:F1} {s.ExplainedVariance,7:F3}");
            }
        }
        stdout.WriteLine();
        stdout.WriteLine($"{"cross-section",-22} {"method",-12} {"sae",-28} {"edit acc",9} {"weight rm",9}");
        var rows = results.Edits.Where(r => r.Method != "counterfactual patch")
            .OrderBy(r => r.CrossSection, StringComparer.Ordinal).ThenByDescending(r => r.EditAccuracy.Mean);
        foreach (var r in rows)
            stdout.WriteLine($"{r.CrossSection,-22} {r.Method,-12} {r.Variant,-28} {r.EditAccuracy.Mean,9:F3} " +
                             $"{r.WeightRemoved.Mean,9:F3}");
        stdout.WriteLine($"wrote {directory}/leaderboard.md, report.html, run.json and CSVs " +
                         $"(activations in the {results.Provenance.Basis} basis)");
    }
}
