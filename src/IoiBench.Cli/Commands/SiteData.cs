using System.CommandLine;
using IoiBench.Activations;
using IoiBench.Gpu;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Saes;
using IoiBench.Sites;

namespace IoiBench.Cli.Commands;

/// <summary>
/// What the dictionary and SAE commands start from: the model in the processed basis, where its forward passes run
/// (<see cref="Transformer"/>: the CPU, or the GPU for --device cuda), its sites, the dataset, and the train and test
/// site activations (from the cache when present).
/// </summary>
internal sealed record SiteData(LoadedModel Model, ITransformer Transformer, SitesFile Sites, IoiDataset Dataset, SiteActivations Train,
    SiteActivations Test) : IDisposable
{
    public string ModelName => CommonOptions.ModelName(Model.Directory);

    public static SiteData Load(ParseResult parse, Option<string> model, Option<string?> sites, Option<string?> cache, DatasetArguments dataset,
        IProgress<ProgressUpdate> progress, TrainingDevice device = TrainingDevice.Cpu)
    {
        string directory = parse.GetValue(model)!;
        var sitesFile = CommonOptions.LoadSites(parse.GetValue(sites), directory);
        var loaded = ModelDirectory.Load(directory, processed: true);
        var data = dataset.Generate(parse, loaded.Tokenizer);
        var activationCache = CommonOptions.OpenCache(parse.GetValue(cache));
        ITransformer transformer = device == TrainingDevice.Cuda ? new CudaGpt2Model(loaded.Model.Weights) : loaded.Model;
        try
        {
            var train = activationCache.GetOrExtract(loaded, data, DatasetSplit.Train, sitesFile.Nodes, progress, transformer).Activations;
            var test = activationCache.GetOrExtract(loaded, data, DatasetSplit.Test, sitesFile.Nodes, progress, transformer).Activations;
            return new SiteData(loaded, transformer, sitesFile, data, train, test);
        }
        catch
        {
            (transformer as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>Frees the GPU's copy of the model, if there is one.</summary>
    public void Dispose() => (Transformer as IDisposable)?.Dispose();
}
