using System.CommandLine;
using IoiBench.Model;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench activations</c>: one hook's per-head vectors at one position, for every layer and head.</summary>
internal static class ActivationsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text" };
        var input = CommonOptions.Input();
        var hook = new Option<string>("--hook") { Description = "q, k, v or z", Required = true };
        hook.AcceptOnlyFromAmong("q", "k", "v", "z");
        var position = new Option<int>("--position") { Description = "Token index (BOS, when prepended, is 0), or -1 for the last token", Required = true };
        var basis = CommonOptions.Basis(ModelBasis.Raw);
        var prependBos = CommonOptions.PrependBos();
        var device = CommonOptions.Device();
        var format = CommonOptions.Format();
        var command = new Command("activations", "Print per-head q/k/v/z vectors at one position")
            { model, prompt, input, hook, position, basis, prependBos, device, format };
        command.SetAction(parse =>
        {
            var point = Enum.Parse<HookPoint>(parse.GetValue(hook)!, ignoreCase: true);
            int requested = parse.GetValue(position);
            var prompts = CommonOptions.ReadTexts(parse.GetValue(prompt), "--prompt", parse.GetValue(input));
            var loaded = ModelDirectory.Load(CommonOptions.ModelDirectory(parse, model), basis.Get(parse));
            using var transformer = Transformers.On(device.Get(parse), loaded.Model.Weights);
            var cfg = loaded.Model.Config;

            var results = PromptBatches.Run(loaded.Tokenizer, transformer, prompts, parse.GetValue(prependBos), (indices, batch) =>
            {
                int resolved = requested < 0 ? batch.SeqLen + requested : requested;
                if (requested < -1 || resolved >= batch.SeqLen)
                    throw new InvalidInputException($"--position {requested} is outside prompt {indices[0]} ({batch.SeqLen} tokens); use 0…{batch.SeqLen - 1} or -1.");
                var positions = Enumerable.Repeat(resolved, batch.Batch).ToArray();
                var hooks = new HookSet();
                var captures = new List<ActivationCapture>();
                for (int l = 0; l < cfg.NLayer; l++)
                    for (int h = 0; h < cfg.NHead; h++)
                        captures.Add(hooks.Capture(new HeadHook(point, l, h), positions));
                transformer.Forward(batch, [.. positions], hooks);
                return Enumerable.Range(0, batch.Batch)
                    .Select(b => (Ids: batch.Sequence(b).ToArray(), Vectors: captures.Select(c => c.Row(b).ToArray()).ToArray()))
                    .ToList();
            });

            foreach (var (ids, vectors) in results)
            {
                if (format.Get(parse) == OutputFormat.Json)
                {
                    stdout.WriteLine(CommonOptions.JsonLine(json =>
                    {
                        CommonOptions.WriteIds(json, ids);
                        json.WriteStartObject("activations");
                        for (int i = 0; i < vectors.Length; i++)
                        {
                            json.WriteStartArray($"{i / cfg.NHead}.{i % cfg.NHead}");
                            foreach (float x in vectors[i]) json.WriteNumberValue(x);
                            json.WriteEndArray();
                        }
                        json.WriteEndObject();
                    }));
                    continue;
                }
                stdout.WriteLine($"ids: {string.Join(' ', ids)}");
                for (int i = 0; i < vectors.Length; i++)
                    stdout.WriteLine($"  {point.ToString().ToLowerInvariant()}@{i / cfg.NHead}.{i % cfg.NHead}  |x|={Math.Sqrt(vectors[i].Sum(x => (double)x * x)):F4}  [{string.Join(", ", vectors[i].Select(x => x.ToString("F4")))}]");
            }
            return 0;
        });
        return command;
    }
}
