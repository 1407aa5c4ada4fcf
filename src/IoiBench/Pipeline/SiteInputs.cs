using IoiBench.Activations;
using IoiBench.Model;
using IoiBench.Prompts;
using IoiBench.Reports;
using IoiBench.Runs;
using IoiBench.Sites;

namespace IoiBench.Pipeline;

/// <summary>
/// Where a model's site data comes from: the model directory, its sites file, the prompt lists and dataset options,
/// the basis the sites are read in, the device the forward passes run on, and the activation cache's directory.
/// </summary>
public sealed record SiteSource(string ModelDirectory, string SitesPath, string PromptsDirectory, DatasetOptions Dataset, ModelBasis Basis,
    ComputeDevice Device, string CacheDirectory)
{
    /// <summary>The model's name for files and reports: its directory's name.</summary>
    public string ModelName => Path.GetFileName(Path.GetFullPath(ModelDirectory).TrimEnd(Path.DirectorySeparatorChar));
}

/// <summary>
/// What the dictionary, SAE and benchmark steps start from: the model in the chosen basis, its forward pass on the
/// chosen device (<see cref="Transformer"/>), the sites, the dataset, and the train and test site activations (from
/// the activation cache when there). Disposing frees the GPU's copy of the model, if there is one.
/// </summary>
public sealed class SiteInputs : IDisposable
{
    public required SiteSource Source { get; init; }
    public required LoadedModel Model { get; init; }
    public required ITransformer Transformer { get; init; }
    public required SitesFile Sites { get; init; }
    public required IoiDataset Dataset { get; init; }
    public required ActivationCache Cache { get; init; }
    public required SiteActivations Train { get; init; }
    public required SiteActivations Test { get; init; }

    public string ModelName => Source.ModelName;

    /// <summary>
    /// Loads and checks everything before the first forward pass: the model, the sites against it, the prompts against
    /// its tokenizer and context, and the activations' size against the machine's memory.
    /// </summary>
    public static SiteInputs Load(SiteSource source, IProgress<ProgressUpdate>? progress = null)
    {
        var model = ModelDirectory.Load(source.ModelDirectory, source.Basis);
        var config = model.Model.Config;
        var sites = SitesFile.Load(source.SitesPath, config);
        var options = source.Dataset;
        long prompts = (long)options.Train + options.Validation + options.Test;
        long floatsPerPrompt = sites.Nodes.Sum(n => (long)n.Width(config)) * Enum.GetValues<PromptVariant>().Length;
        MemoryBudget.Check(prompts * (IoiDataset.BytesPerExample + floatsPerPrompt * sizeof(float)),
            $"the site activations of {prompts:N0} prompts at {sites.Nodes.Count} nodes");
        var dataset = IoiDataset.Generate(PromptLibrary.Load(source.PromptsDirectory), model.Tokenizer, options, config.NPositions);
        var cache = new ActivationCache(Path.Combine(source.CacheDirectory, "activations"));
        var transformer = Transformers.On(source.Device, model.Model.Weights);
        try
        {
            return new SiteInputs
            {
                Source = source, Model = model, Transformer = transformer, Sites = sites, Dataset = dataset, Cache = cache,
                Train = cache.GetOrExtract(model, dataset, DatasetSplit.Train, sites.Nodes, progress, transformer).Activations,
                Test = cache.GetOrExtract(model, dataset, DatasetSplit.Test, sites.Nodes, progress, transformer).Activations,
            };
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    /// <summary>A split's site activations (validation is extracted, or read from the cache, on first use).</summary>
    public SiteActivations Split(DatasetSplit split, IProgress<ProgressUpdate>? progress = null) => split switch
    {
        DatasetSplit.Train => Train,
        DatasetSplit.Test => Test,
        _ => Cache.GetOrExtract(Model, Dataset, split, Sites.Nodes, progress, Transformer).Activations,
    };

    public void Dispose() => Transformer.Dispose();
}
