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
        model.Description = "Model directory whose tokenizer (vocab.json[, merges.txt]) the prompts are checked and tokenized with; default: the embedded model";
        var dataset = new DatasetArguments();
        var split = new Option<string?>("--split") { Description = "Print only this split: train, validation or test" };
        split.AcceptOnlyFromAmong("train", "validation", "test");
        var output = new Option<string?>("--output") { Description = "Write to this file (atomically) instead of standard output" };
        var format = CommonOptions.Format();
        var command = new Command("prompts", "Generate the IOI dataset: splits, positions, answers and counterfactuals")
            { model, split, output, format };
        dataset.AddTo(command);
        command.SetAction(parse =>
        {
            string directory = CommonOptions.ModelDirectory(parse, model);
            if (!Directory.Exists(directory)) throw new InvalidInputException($"{directory}: model directory not found.");
            var examples = dataset.Generate(parse, TokenizerLoader.Load(directory), IoiBench.Model.Gpt2Config.Load(Path.Combine(directory, "config.json")).NPositions);

            var text = new StringBuilder();
            var splits = parse.GetValue(split) is { } only ? [Enum.Parse<DatasetSplit>(only, ignoreCase: true)] : Enum.GetValues<DatasetSplit>();
            foreach (var s in splits)
                foreach (var (example, index) in examples.Split(s).Select((e, i) => (e, i)))
                    text.AppendLine(format.Get(parse) == OutputFormat.Json ? JsonLine(s, index, example) : TextLine(s, index, example));

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
        json.Number("index", index);
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
        foreach (var position in Enum.GetValues<SemanticPosition>()) json.Number(position.Name(), prompt.Positions[position]);
        json.WriteEndObject();
        json.WriteStartObject("answer");
        json.Number("io", prompt.IoToken);
        json.Number("s", prompt.SToken);
        json.WriteEndObject();
    }
}
