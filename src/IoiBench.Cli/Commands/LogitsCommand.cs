using System.CommandLine;
using IoiBench.Model;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench logits</c>: the top next-token logits at the last position of each prompt.</summary>
internal static class LogitsCommand
{
    private sealed record PromptLogits(int[] Ids, (int Id, float Logit)[] Top, float LogSumExp);

    private static PromptLogits Summarize(int[] ids, float[] logits, int topN)
    {
        var best = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(topN)
            .Select(i => (i, logits[i])).ToArray();
        float max = TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        return new PromptLogits(ids, best, max + (float)Math.Log(sum));
    }

    public static Command Create(TextWriter stdout)
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text" };
        var input = CommonOptions.Input();
        var top = CommonOptions.Number("--top", "How many of the highest logits to print", fallback: 10, minimum: 1);
        var basis = CommonOptions.Basis(ModelBasis.Raw);
        var prependBos = CommonOptions.PrependBos();
        var device = CommonOptions.Device();
        var format = CommonOptions.Format();
        var command = new Command("logits", "Print the highest next-token logits for prompts") { model, prompt, input, top, basis, prependBos, device, format };
        command.SetAction(parse =>
        {
            var prompts = CommonOptions.ReadTexts(parse.GetValue(prompt), "--prompt", parse.GetValue(input));
            var loaded = ModelDirectory.Load(CommonOptions.ModelDirectory(parse, model), basis.Get(parse));
            using var transformer = Transformers.On(device.Get(parse), loaded.Model.Weights);
            int topN = Math.Min(parse.GetValue(top), loaded.Model.Config.VocabSize);
            bool withBos = parse.GetValue(prependBos);

            var results = PromptBatches.Run(loaded.Tokenizer, transformer, prompts, withBos, (_, batch) =>
            {
                var last = Enumerable.Repeat(batch.SeqLen - 1, batch.Batch).ToArray();
                var logits = transformer.Forward(batch, last);
                return Enumerable.Range(0, batch.Batch)
                    .Select(b => Summarize(batch.Sequence(b).ToArray(), logits.Row(b).ToArray(), topN)).ToList();
            });

            foreach (var (r, index) in results.Select((r, i) => (r, i)))
            {
                if (format.Get(parse) == OutputFormat.Json)
                {
                    stdout.WriteLine(CommonOptions.JsonLine(json =>
                    {
                        CommonOptions.WriteIds(json, r.Ids);
                        json.WriteStartArray("top");
                        foreach (var (id, logit) in r.Top)
                        {
                            json.WriteStartObject();
                            json.Number("id", id);
                            json.WriteString("token", loaded.Tokenizer.Decode([id]));
                            json.Number("logit", logit);
                            json.WriteEndObject();
                        }
                        json.WriteEndArray();
                        json.Number("logsumexp", r.LogSumExp);
                    }));
                    continue;
                }
                stdout.WriteLine($"prompt {index}: {TokenizeCommand.Quote(prompts[index])} ({r.Ids.Length} tokens{(withBos ? " with BOS" : "")})");
                foreach (var (id, logit) in r.Top)
                    stdout.WriteLine($"  {logit,10:F4}  p={Math.Exp(logit - r.LogSumExp),7:F4}  {id,6}  {TokenizeCommand.Quote(loaded.Tokenizer.Decode([id]))}");
            }
            return 0;
        });
        return command;
    }
}
