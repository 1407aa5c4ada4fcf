using System.CommandLine;
using IoiBench.Circuit;
using IoiBench.IO;
using IoiBench.Model;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench circuit</c>: rank heads by mean-ablation, read their attention, class them and write sites.yaml.</summary>
internal static class CircuitCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = CommonOptions.Model();
        var split = DatasetArguments.Split("Split whose prompts are analysed (default: validation)");
        split.DefaultValueFactory = _ => "validation";
        var count = CommonOptions.Number("--count", "How many prompts of the split to use", fallback: 500, minimum: 1);
        var output = new Option<string?>("--output") { Description = "Where to write the sites file (default: MODEL-sites.yaml in the working directory, which must not exist yet)" };
        var plot = new Option<string?>("--plot") { Description = "Also write the analysis as an SVG heatmap to this file" };
        var basis = CommonOptions.Basis(ModelBasis.Raw);
        var device = CommonOptions.Device();
        var format = CommonOptions.Format();
        var dataset = new DatasetArguments();
        var command = new Command("circuit", "Find the IOI circuit's heads and write the model's sites file") { model, split, count, output, plot, basis, device, format };
        dataset.AddTo(command);
        command.SetAction(parse =>
        {
            string directory = CommonOptions.ModelDirectory(parse, model);
            string modelName = CommonOptions.ModelName(directory);
            string sitesPath = Defaults.Writable(parse.GetValue(output) ?? $"{modelName}-sites.yaml", "--output");
            if (parse.GetValue(output) is null && File.Exists(sitesPath))
                throw new InvalidInputException($"{sitesPath} exists already; give --output to write the sites file elsewhere (or over it).");
            string? plotPath = parse.GetValue(plot) is { } plotOption ? Defaults.Writable(plotOption, "--plot") : null;
            var loaded = ModelDirectory.Load(directory, basis.Get(parse));
            using var transformer = Transformers.On(device.Get(parse), loaded.Model.Weights);
            var prompts = dataset.Generate(parse, loaded.Tokenizer, loaded.Model.Config.NPositions).Split(DatasetArguments.ParseSplit(parse.GetValue(split)!))
                .Take(parse.GetValue(count)).Select(e => e.Clean).ToList();
            if (prompts.Count == 0) throw new InvalidInputException($"the {parse.GetValue(split)} split is empty.");
            CircuitAnalysis.Result result;
            using (var progress = new ConsoleProgress(stderr)) result = CircuitAnalysis.Analyse(transformer, prompts, progress);

            var sites = CircuitAnalysis.ProposeSites(modelName, result);
            AtomicFile.WriteAllText(sitesPath, sites.ToYaml(
                $"Circuit sites of {modelName}, proposed by `ioibench circuit` from {prompts.Count} {parse.GetValue(split)} prompts\n" +
                $"(clean logit difference {result.CleanLogitDiff:F3}). Head classes by mean-ablation and attention; see docs/embedded-model.md."));
            if (plotPath is not null) AtomicFile.WriteAllText(plotPath, CircuitPlot.Render(result, $"IOI circuit of {modelName}"));

            var scopes = Enum.GetValues<AblationScope>();
            if (format.Get(parse) == OutputFormat.Json)
            {
                foreach (var h in result.Heads)
                    stdout.WriteLine(CommonOptions.JsonLine(json =>
                    {
                        json.WriteString("head", h.Head.ToString());
                        if (h.Class is null) json.WriteNull("class"); else json.WriteString("class", h.Class);
                        json.WriteStartObject("logit_diff_drop");
                        foreach (var s in scopes) json.Number(s.Name(), h.LogitDiffDrop[s]);
                        json.WriteEndObject();
                        json.WriteStartObject("attention");
                        json.Number("end_to_io", h.Attention.EndToIo); json.Number("end_to_s1", h.Attention.EndToS1);
                        json.Number("end_to_s2", h.Attention.EndToS2); json.Number("s2_to_s1", h.Attention.S2ToS1);
                        json.Number("s2_to_s1+1", h.Attention.S2ToS1Plus1);
                        json.WriteEndObject();
                    }));
                return 0;
            }
            stdout.WriteLine($"clean logit difference {result.CleanLogitDiff:F3} over {prompts.Count} prompts; drop when mean-ablated at:");
            stdout.WriteLine($"{"head",-6}{string.Join("", scopes.Select(s => $"{s.Name(),8}"))}   end→io end→s2 s2→s1 s2→s1+1  class");
            foreach (var h in result.Heads.OrderByDescending(h => h.LogitDiffDrop[AblationScope.All]))
                stdout.WriteLine($"{h.Head,-6}{string.Join("", scopes.Select(s => $"{h.LogitDiffDrop[s],8:F3}"))}   " +
                                 $"{h.Attention.EndToIo,6:F2} {h.Attention.EndToS2,6:F2} {h.Attention.S2ToS1,5:F2} {h.Attention.S2ToS1Plus1,7:F2}  {h.Class ?? "-"}");
            stdout.WriteLine($"wrote {sitesPath} ({sites.Nodes.Count} nodes, {sites.CrossSections.Count} cross-sections)");
            return 0;
        });
        return command;
    }
}
