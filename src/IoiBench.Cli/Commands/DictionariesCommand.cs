using System.CommandLine;
using IoiBench.Activations;
using IoiBench.Dictionaries;
using IoiBench.Numerics;
using IoiBench.Prompts;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench dictionaries</c>: fits each node's supervised dictionary on the train split and reports how well it
/// reconstructs the test split's activations (explained variance, MSE, cosine) and the mean supervised weights.
/// </summary>
internal static class DictionariesCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var siteOptions = new SiteOptions("activations are extracted");
        var format = CommonOptions.Format();
        var command = new Command("dictionaries", "Fit supervised feature dictionaries (train) and score their reconstructions (test)") { format };
        siteOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var progress = new ConsoleProgress(stderr);
            using var site = siteOptions.Load(parse, progress);
            progress.Dispose();
            var (sitesFile, data, train, test) = (site.Sites, site.Dataset, site.Train, site.Test);
            var trainPrompts = data.Train.Select(e => e.Clean.Prompt).ToList();
            var testPrompts = data.Test.Select(e => e.Clean.Prompt).ToList();

            bool json = format.Get(parse) == OutputFormat.Json;
            if (!json) stdout.WriteLine($"{"node",-16} {"EV",7} {"MSE",9} {"cos",6}   mean weight: {"IO",6} {"S",6} {"Pos",6}");
            foreach (var node in sitesFile.Nodes)
            {
                var dictionary = SupervisedDictionary.Fit(node, train.Get(node, PromptVariant.Clean), trainPrompts);
                var actual = test.Get(node, PromptVariant.Clean);
                var reconstructed = new Tensor(actual.Shape);
                var weights = Enum.GetValues<IoiAttribute>().ToDictionary(a => a, _ => 0.0);
                for (int p = 0; p < testPrompts.Count; p++)
                {
                    dictionary.Reconstruct(testPrompts[p]).CopyTo(reconstructed.Row(p));
                    foreach (var (attribute, w) in dictionary.Weights(testPrompts[p])) weights[attribute] += w / testPrompts.Count;
                }
                var quality = ReconstructionQuality.Measure(actual, reconstructed);
                if (json)
                    stdout.WriteLine(CommonOptions.JsonLine(j =>
                    {
                        j.WriteString("node", node.ToString());
                        j.Number("explained_variance", quality.ExplainedVariance);
                        j.Number("mse", quality.Mse);
                        j.Number("cosine", quality.Cosine);
                        j.WriteStartObject("mean_weight");
                        foreach (var (attribute, w) in weights) j.Number(attribute.ToString().ToLowerInvariant(), w);
                        j.WriteEndObject();
                    }));
                else
                    stdout.WriteLine($"{node,-16} {quality.ExplainedVariance,7:F3} {quality.Mse,9:G4} {quality.Cosine,6:F3}                {weights[IoiAttribute.Io],6:F3} {weights[IoiAttribute.S],6:F3} {weights[IoiAttribute.Pos],6:F3}");
            }
            return 0;
        });
        return command;
    }
}
