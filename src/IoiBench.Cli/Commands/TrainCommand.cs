using System.CommandLine;
using IoiBench.Pipeline;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary><c>ioibench train</c>: an SAE sweep from a preset over every node of a sites file.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var siteOptions = new SiteOptions("SAEs train and activations are extracted");
        var preset = CommonOptions.Preset("quick");
        var output = new Option<string?>("--output") { Description = "Where the SAEs go (default: saes/MODEL-PRESET)" };
        var format = CommonOptions.Format();
        var command = new Command("train", "Train the SAEs of a preset on every node (train split) and score them (test split)") { preset, output, format };
        siteOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var recipe = Defaults.LoadPreset(parse.GetValue(preset)!);

            string outputDirectory;
            List<SaeSweep.Result> results;
            var source = siteOptions.Source(parse);
            outputDirectory = Defaults.Writable(parse.GetValue(output) ?? Path.Combine("saes", $"{source.ModelName}-{recipe.Name}"), "--output");
            using var folder = IoiBench.IO.DirectoryLock.Acquire(outputDirectory);
            using (var progress = new ConsoleProgress(stderr))
            {
                using var site = IoiBench.Pipeline.SiteInputs.Load(source, progress);
                results = SaeSweep.Run(recipe, site.Train, site.Test, outputDirectory, site.ModelName, progress, device: siteOptions.Device.Get(parse));
            }
            bool json = format.Get(parse) == OutputFormat.Json;
            if (!json) stdout.WriteLine($"{"node",-16} {"sae",-24} {"EV",7} {"L0",6} {"dead",6}   (test split; dead = fraction of latents silent in the last epoch)");
            foreach (var r in results)
            {
                if (json)
                    stdout.WriteLine(CommonOptions.JsonLine(j =>
                    {
                        j.WriteString("node", r.Node.ToString());
                        j.WriteString("sae", r.Spec.Name);
                        j.Number("explained_variance", r.Test.ExplainedVariance);
                        j.Number("l0", r.TestL0);
                        j.Number("fraction_dead", r.LastEpoch.FractionDead);
                        j.Number("scale", r.Scale);
                        j.WriteString("path", r.Directory);
                        if (r.DivergedAt is { } epoch) j.WriteNumber("diverged_at_epoch", epoch);
                        else j.WriteNull("diverged_at_epoch");
                    }));
                else
                    stdout.WriteLine($"{r.Node,-16} {r.Name,-24} {r.Test.ExplainedVariance,7:F3} {r.TestL0,6:F1} {r.LastEpoch.FractionDead,6:F2}" +
                                     (r.DivergedAt is { } epoch ? $"   diverged at epoch {epoch}: its loss was not finite" : ""));
            }
            if (!json) stdout.WriteLine($"wrote {results.Count} SAEs under {outputDirectory}");
            return 0;
        });
        return command;
    }
}
