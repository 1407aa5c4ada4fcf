using System.CommandLine;
using IoiBench.Activations;
using IoiBench.Model;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench extract</c>: per-head site activations of a split (clean and counterfactual), cached on disk.</summary>
internal static class ExtractCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = CommonOptions.Model();
        var sites = CommonOptions.Sites();
        var split = DatasetArguments.Split("Split to extract: train, validation or test");
        var basis = CommonOptions.Basis(ModelBasis.Processed);
        var device = CommonOptions.Device();
        var cache = CommonOptions.Cache();
        var dataset = new DatasetArguments();
        var command = new Command("extract", "Extract site activations for clean and counterfactual prompts (cached)") { model, sites, split, basis, device, cache };
        dataset.AddTo(command);
        command.SetAction(parse =>
        {
            string directory = CommonOptions.ModelDirectory(parse, model);
            var loaded = ModelDirectory.Load(directory, basis.Get(parse));
            var sitesFile = CommonOptions.LoadSites(parse.GetValue(sites), loaded);
            using var transformer = Transformers.On(device.Get(parse), loaded.Model.Weights);
            var examples = dataset.Generate(parse, loaded.Tokenizer, loaded.Model.Config.NPositions);
            var activationCache = CommonOptions.OpenCache(parse.GetValue(cache));
            ActivationCache.Result result;
            using (var progress = new ConsoleProgress(stderr))
                result = activationCache.GetOrExtract(loaded, examples, DatasetArguments.ParseSplit(parse.GetValue(split)!), sitesFile.Nodes, progress, transformer);
            stdout.WriteLine($"{(result.Hit ? "cache hit" : "extracted")}: {result.Activations.Nodes.Count} nodes × {result.Activations.Prompts} prompts × " +
                             $"{Enum.GetValues<PromptVariant>().Length} prompt variants ({basis.Get(parse).Name()} basis) in {result.Path}");
            return 0;
        });
        return command;
    }
}
