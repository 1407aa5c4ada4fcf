using System.CommandLine;
using IoiBench.Behaviour;
using IoiBench.Model;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench ioi eval</c>: IOI accuracy and logit difference on a split, optionally with heads mean-ablated.</summary>
internal static class IoiEvalCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = CommonOptions.Model();
        var split = DatasetArguments.Split("Split to evaluate on: train, validation or test");
        var ablate = new Option<string?>("--ablate") { Description = "Heads to mean-ablate at every position, e.g. 9.6,9.9 (means over the same split)" };
        var basis = CommonOptions.Basis(ModelBasis.Raw);
        var device = CommonOptions.Device();
        var format = CommonOptions.Format();
        var dataset = new DatasetArguments();
        var eval = new Command("eval", "Accuracy, top-1 accuracy and logit difference of IO over S") { model, split, ablate, basis, device, format };
        dataset.AddTo(eval);
        eval.SetAction(parse =>
        {
            var loaded = ModelDirectory.Load(CommonOptions.ModelDirectory(parse, model), basis.Get(parse));
            using var transformer = Transformers.On(device.Get(parse), loaded.Model.Weights);
            var prompts = dataset.Generate(parse, loaded.Tokenizer, loaded.Model.Config.NPositions).Split(DatasetArguments.ParseSplit(parse.GetValue(split)!)).Select(e => e.Clean).ToList();
            if (prompts.Count == 0) throw new InvalidInputException($"the {parse.GetValue(split)} split is empty.");
            var heads = (parse.GetValue(ablate) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(HeadRef.Parse).ToList();
            IoiMetrics clean;
            IoiMetrics? ablated = null;
            using (var progress = new ConsoleProgress(stderr))
            {
                clean = IoiMetrics.From(PromptRunner.Score(transformer, prompts, progress: progress, stage: "clean forward"));
                if (heads.Count > 0)
                {
                    var ablation = new HeadAblation(heads);
                    var means = MeanHeadOutputs.Compute(transformer, prompts, progress);
                    ablated = IoiMetrics.From(PromptRunner.Score(transformer, prompts, b => ablation.Hooks(b, means, loaded.Model.Config), progress, "ablated forward"));
                }
            }
            var reported = ablated ?? clean;

            if (format.Get(parse) == OutputFormat.Json)
            {
                stdout.WriteLine(CommonOptions.JsonLine(json =>
                {
                    json.Number("accuracy", reported.Accuracy);
                    json.Number("top1_accuracy", reported.Top1Accuracy);
                    json.Number("logit_diff", reported.LogitDiff);
                    json.Number("n_prompts", reported.Prompts);
                    if (ablated is null) return;
                    json.WriteStartArray("ablated_heads");
                    foreach (var h in heads) json.WriteStringValue(h.ToString());
                    json.WriteEndArray();
                    json.Number("clean_logit_diff", clean.LogitDiff);
                    json.Number("logit_diff_drop", clean.LogitDiff - ablated.LogitDiff);
                }));
                return 0;
            }
            stdout.WriteLine($"model {loaded.Directory}, {parse.GetValue(split)} split, {reported.Prompts} prompts");
            stdout.WriteLine($"  clean:    accuracy {clean.Accuracy * 100:F2}%  top-1 {clean.Top1Accuracy * 100:F2}%  logit diff {clean.LogitDiff:F3}");
            if (ablated is not null)
                stdout.WriteLine($"  ablated ({string.Join(",", heads)}): accuracy {ablated.Accuracy * 100:F2}%  top-1 {ablated.Top1Accuracy * 100:F2}%  " +
                                 $"logit diff {ablated.LogitDiff:F3} (drop {clean.LogitDiff - ablated.LogitDiff:F3})");
            return 0;
        });
        return new Command("ioi", "IOI behaviour of a model") { eval };
    }
}
