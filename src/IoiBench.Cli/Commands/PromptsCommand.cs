using System.CommandLine;
using System.Text;
using System.Text.Json;
using IoiBench.IO;
using IoiBench.Prompts;
using IoiBench.Tokenization;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench prompts</c>: the IOI dataset (clean prompts and counterfactuals) for a model's tokenizer.</summary>
internal static class PromptsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = CommonOptions.Model();
        model.Description = "Model directory whose tokenizer (vocab.json[, merges.txt]) the prompts are checked and tokenized with";
        var prompts = new Option<string?>("--prompts") { Description = "Prompts directory (templates.yaml, names.yaml, objects.yaml, places.yaml); default: the bundled one" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var train = new Option<int>("--train") { Description = "Train prompts", DefaultValueFactory = _ => 20_000 };
        var validation = new Option<int>("--validation") { Description = "Validation prompts", DefaultValueFactory = _ => 2_000 };
        var test = new Option<int>("--test") { Description = "Test prompts", DefaultValueFactory = _ => 5_000 };
        var split = new Option<string?>("--split") { Description = "Print only this split: train, validation or test" };
        split.AcceptOnlyFromAmong("train", "validation", "test");
        var output = new Option<string?>("--output") { Description = "Write to this file (atomically) instead of standard output" };
        var format = CommonOptions.Format();
        var command = new Command("prompts", "Generate the IOI dataset: splits, positions, answers and counterfactuals")
            { model, prompts, seed, train, validation, test, split, output, format };
        command.SetAction(parse =>
        {
            var options = new DatasetOptions(parse.GetValue(train), parse.GetValue(validation), parse.GetValue(test), parse.GetValue(seed));
            if (options.Train < 0 || options.Validation < 0 || options.Test < 0) throw new InvalidInputException("split sizes must be non-negative.");
            string directory = parse.GetValue(model)!;
            if (!Directory.Exists(directory)) throw new InvalidInputException($"{directory}: model directory not found.");
            var dataset = IoiDataset.Generate(PromptLibrary.Load(parse.GetValue(prompts) ?? Defaults.PromptsDirectory), TokenizerLoader.Load(directory), options);

            var text = new StringBuilder();
            var splits = parse.GetValue(split) is { } only ? [Enum.Parse<DatasetSplit>(only, ignoreCase: true)] : Enum.GetValues<DatasetSplit>();
            foreach (var s in splits)
                foreach (var (example, index) in dataset.Split(s).Select((e, i) => (e, i)))
                    text.AppendLine(parse.GetValue(format) == OutputFormat.Json ? JsonLine(s, index, example) : TextLine(s, index, example));

            if (parse.GetValue(output) is { } path) AtomicFile.WriteAllText(path, text.ToString());
            else stdout.Write(text.ToString());
            return 0;
        });
        return command;
    }

    private static string TextLine(DatasetSplit split, int index, IoiExample example)
    {
        var p = example.Clean.Prompt;
        return $"{split.ToString().ToLowerInvariant()}\t{index}\t{p.Template.Id}\t{p.Pattern}\t{p.Text} → {p.Io}";
    }

    private static string JsonLine(DatasetSplit split, int index, IoiExample example) => CommonOptions.JsonLine(json =>
    {
        json.WriteString("split", split.ToString().ToLowerInvariant());
        json.WriteNumber("index", index);
        WritePrompt(json, example.Clean);
        json.WriteStartObject("counterfactuals");
        foreach (var attribute in Enum.GetValues<IoiAttribute>())
        {
            json.WriteStartObject(attribute.ToString().ToLowerInvariant());
            WritePrompt(json, example.Counterfactual(attribute));
            json.WriteEndObject();
        }
        json.WriteEndObject();
    });

    private static void WritePrompt(Utf8JsonWriter json, TokenizedPrompt prompt)
    {
        json.WriteString("template", prompt.Prompt.Template.Id);
        json.WriteString("pattern", prompt.Prompt.Pattern);
        json.WriteString("text", prompt.Prompt.Text);
        json.WriteString("io", prompt.Prompt.Io);
        json.WriteString("s", prompt.Prompt.S);
        CommonOptions.WriteIds(json, prompt.Ids);
        json.WriteStartObject("positions");
        foreach (var position in Enum.GetValues<SemanticPosition>()) json.WriteNumber(position.Name(), prompt.Positions[position]);
        json.WriteEndObject();
        json.WriteStartObject("answer");
        json.WriteNumber("io", prompt.IoToken);
        json.WriteNumber("s", prompt.SToken);
        json.WriteEndObject();
    }
}
