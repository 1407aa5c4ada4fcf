using System.CommandLine;
using IoiBench.Prompts;
using IoiBench.Tokenization;

namespace IoiBench.Cli.Commands;

/// <summary>The options that define an IOI dataset (prompt lists, seed, split sizes), shared by every command that needs one.</summary>
internal sealed class DatasetArguments
{
    private readonly Option<string?> _prompts = new("--prompts") { Description = "Prompts directory (templates.yaml, names.yaml, objects.yaml, places.yaml); default: the bundled one" };
    private readonly Option<ulong> _seed = new("--seed") { Description = "Dataset seed", DefaultValueFactory = _ => 0 };
    private readonly Option<int> _train = CommonOptions.Number("--train", "Train prompts", fallback: 20_000, minimum: 0);
    private readonly Option<int> _validation = CommonOptions.Number("--validation", "Validation prompts", fallback: 2_000, minimum: 0);
    private readonly Option<int> _test = CommonOptions.Number("--test", "Test prompts", fallback: 5_000, minimum: 0);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _prompts, _seed, _train, _validation, _test }) command.Options.Add(option);
    }

    public DatasetOptions Options(ParseResult parse) =>
        new(parse.GetValue(_train), parse.GetValue(_validation), parse.GetValue(_test), parse.GetValue(_seed));

    public string PromptsDirectory(ParseResult parse) => parse.GetValue(_prompts) ?? Defaults.PromptsDirectory;

    /// <summary>The dataset, its templates checked against the model's context when given.</summary>
    public IoiDataset Generate(ParseResult parse, ITokenizer tokenizer, int? contextLength) =>
        IoiDataset.Generate(PromptLibrary.Load(PromptsDirectory(parse)), tokenizer, Options(parse), contextLength);

    public static Option<string> Split(string description) => new Option<string>("--split")
    {
        Description = description,
        DefaultValueFactory = _ => "test",
    }.AcceptingOnly("train", "validation", "test");

    public static DatasetSplit ParseSplit(string value) => Enum.Parse<DatasetSplit>(value, ignoreCase: true);
}

internal static class OptionExtensions
{
    public static Option<string> AcceptingOnly(this Option<string> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
