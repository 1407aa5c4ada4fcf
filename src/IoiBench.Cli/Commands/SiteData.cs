using System.CommandLine;
using IoiBench.Activations;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Cli.Commands;

/// <summary>
/// What the dictionary and SAE commands start from: the model in the processed basis, its sites, the dataset, and the
/// train and test site activations (from the cache when present).
/// </summary>
internal sealed record SiteData(LoadedModel Model, SitesFile Sites, IoiDataset Dataset, SiteActivations Train, SiteActivations Test)
{
    public string ModelName => CommonOptions.ModelName(Model.Directory);

    public static SiteData Load(ParseResult parse, Option<string> model, Option<string?> sites, Option<string?> cache, DatasetArguments dataset,
        IProgress<ProgressUpdate> progress)
    {
        string directory = parse.GetValue(model)!;
        var sitesFile = CommonOptions.LoadSites(parse.GetValue(sites), directory);
        var loaded = ModelDirectory.Load(directory, processed: true);
        var data = dataset.Generate(parse, loaded.Tokenizer);
        var activationCache = CommonOptions.OpenCache(parse.GetValue(cache));
        var train = activationCache.GetOrExtract(loaded, data, DatasetSplit.Train, sitesFile.Nodes, progress).Activations;
        var test = activationCache.GetOrExtract(loaded, data, DatasetSplit.Test, sitesFile.Nodes, progress).Activations;
        return new SiteData(loaded, sitesFile, data, train, test);
    }
}
