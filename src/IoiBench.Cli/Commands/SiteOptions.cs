using System.CommandLine;
using IoiBench.Pipeline;
using IoiBench.Activations;
using IoiBench.Model;
using IoiBench.Runs;

namespace IoiBench.Cli.Commands;

/// <summary>
/// The options of the commands that work on a model's sites (dictionaries, train, run): the model, its sites file, the
/// basis, the device, the activation cache and the dataset.
/// </summary>
internal sealed class SiteOptions(string deviceWork, ModelBasis? basisFallback = ModelBasis.Processed, string basisNote = "")
{
    public Option<string?> Model { get; } = CommonOptions.Model();
    public Option<string?> Sites { get; } = CommonOptions.Sites();
    public ChoiceOption<ModelBasis> Basis { get; } = CommonOptions.Basis(basisFallback, basisNote);
    public ChoiceOption<ComputeDevice> Device { get; } = CommonOptions.Device(deviceWork);
    public Option<string?> Cache { get; } = CommonOptions.Cache();
    public DatasetArguments Dataset { get; } = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Sites, Basis, Device, Cache }) command.Options.Add(option);
        Dataset.AddTo(command);
    }

    /// <summary>
    /// The parsed options as the library's <see cref="SiteSource"/>; <paramref name="basisWhenNotGiven"/> decides the
    /// basis when --basis has no default and is not given.
    /// </summary>
    public SiteSource Source(ParseResult parse, Func<ModelBasis>? basisWhenNotGiven = null)
    {
        string model = CommonOptions.ModelDirectory(parse, Model);
        var basis = Basis.Find(parse) ?? basisWhenNotGiven?.Invoke() ?? Basis.Get(parse);
        return new SiteSource(model, parse.GetValue(Sites) ?? Path.Combine(model, "sites.yaml"), Dataset.PromptsDirectory(parse),
            Dataset.Options(parse), basis, Device.Get(parse), parse.GetValue(Cache) ?? ActivationCache.DefaultDirectory);
    }

    /// <summary>The site data of the parsed options (see <see cref="SiteInputs.Load"/>).</summary>
    public SiteInputs Load(ParseResult parse, IProgress<ProgressUpdate> progress) => SiteInputs.Load(Source(parse), progress);
}

