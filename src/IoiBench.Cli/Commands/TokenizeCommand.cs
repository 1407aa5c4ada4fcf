using System.CommandLine;
using IoiBench.Tokenization;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench tokenize</c>: the model's token ids for each text (BOS first unless --prepend-bos false).</summary>
internal static class TokenizeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = CommonOptions.Model();
        var text = new Option<string?>("--text") { Description = "Text to tokenize" };
        var input = CommonOptions.Input();
        var prependBos = CommonOptions.PrependBos();
        var format = CommonOptions.Format();
        var command = new Command("tokenize", "Print the token ids of texts") { model, text, input, prependBos, format };
        command.SetAction(parse =>
        {
            string directory = CommonOptions.ModelDirectory(parse, model);
            if (!Directory.Exists(directory)) throw new InvalidInputException($"{directory}: model directory not found.");
            var tokenizer = TokenizerLoader.Load(directory);
            foreach (string t in CommonOptions.ReadTexts(parse.GetValue(text), "--text", parse.GetValue(input)))
            {
                int[] ids = PromptBatches.Encode(tokenizer, t, parse.GetValue(prependBos));
                stdout.WriteLine(format.Get(parse) == OutputFormat.Json
                    ? CommonOptions.JsonLine(json => CommonOptions.WriteIds(json, ids))
                    : string.Join(' ', ids.Select(id => $"{id}:{Quote(tokenizer.Decode([id]))}")));
            }
            return 0;
        });
        return command;
    }

    internal static string Quote(string token) =>
        "\"" + token.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t") + "\"";
}
