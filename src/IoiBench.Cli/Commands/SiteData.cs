using System.CommandLine;
using IoiBench.Activations;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Cli.Commands;

/// <summary>
/// The options of the commands that work on a model's sites (dictionaries, train, run): the model, its sites file, the
/// basis, the device, the activation cache and the dataset.
/// </summary>
internal sealed class SiteOptions(string deviceWork)
{
    public Option<string> Model { get; } = CommonOptions.Model();
    public Option<string?> Sites { get; } = CommonOptions.Sites();
    public Option<ModelBasis> Basis { get; } = CommonOptions.Basis(ModelBasis.Processed);
    public Option<ComputeDevice> Device { get; } = CommonOptions.Device(deviceWork);
    public Option<string?> Cache { get; } = CommonOptions.Cache();
    public DatasetArguments Dataset { get; } = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Sites, Basis, Device, Cache }) command.Options.Add(option);
        Dataset.AddTo(command);
    }
}

/// <summary>
/// What the dictionary and SAE commands start from: the model in the chosen basis, where its forward passes run
/// (<see cref="Transformer"/>: the CPU, or the GPU for --device cuda), its sites, the dataset, and the train and test
/// site activations (from the cache when present).
/// </summary>
internal sealed record SiteData(LoadedModel Model, ITransformer Transformer, SitesFile Sites, IoiDataset Dataset, ActivationCache Cache,
    SiteActivations Train, SiteActivations Test) : IDisposable
{
    public string ModelName => CommonOptions.ModelName(Model.Directory);

    public static SiteData Load(ParseResult parse, SiteOptions options, IProgress<ProgressUpdate> progress)
    {
        string directory = parse.GetValue(options.Model)!;
        var sitesFile = CommonOptions.LoadSites(parse.GetValue(options.Sites), directory);
        var loaded = ModelDirectory.Load(directory, parse.GetValue(options.Basis));
        var data = options.Dataset.Generate(parse, loaded.Tokenizer);
        var cache = CommonOptions.OpenCache(parse.GetValue(options.Cache));
        var transformer = Transformers.On(parse.GetValue(options.Device), loaded.Model.Weights);
        try
        {
            var train = cache.GetOrExtract(loaded, data, DatasetSplit.Train, sitesFile.Nodes, progress, transformer).Activations;
            var test = cache.GetOrExtract(loaded, data, DatasetSplit.Test, sitesFile.Nodes, progress, transformer).Activations;
            return new SiteData(loaded, transformer, sitesFile, data, cache, train, test);
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    /// <summary>Frees the GPU's copy of the model, if there is one.</summary>
    public void Dispose() => Transformer.Dispose();
}
