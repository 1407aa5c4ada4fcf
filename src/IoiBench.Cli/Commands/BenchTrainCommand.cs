using System.CommandLine;
using System.Diagnostics;
using IoiBench.Activations;
using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench bench-train</c>: times an SAE sweep on random activations shaped like a sites file's (one SAE per node
/// and preset entry), on the CPU or a GPU, and projects the preset's full length from the epochs run. Needs no model.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var preset = CommonOptions.Preset("makelov2024");
        var sites = new Option<string?>("--sites") { Description = "Sites file whose nodes get one SAE per preset entry (default: models/gpt2-small/sites.yaml, 55 nodes)" };
        var examples = CommonOptions.Number("--examples", "Training activations per node (the reference: 20,000)", fallback: 20_000, minimum: 1);
        var dimension = CommonOptions.Number("--dimension", "Activation size (GPT-2 small's d_head: 64)", fallback: 64, minimum: 1);
        var epochs = CommonOptions.OptionalNumber("--epochs", "Epochs to run (default: the preset's)", minimum: 1);
        var device = CommonOptions.Device("the SAEs train");
        var format = CommonOptions.Format();
        var command = new Command("bench-train", "Time an SAE sweep on random activations of a sites file's shapes, on the CPU or a GPU")
            { preset, sites, examples, dimension, epochs, device, format };
        command.SetAction(parse =>
        {
            var recipe = Defaults.LoadPreset(parse.GetValue(preset)!);
            int n = parse.GetValue(examples), d = parse.GetValue(dimension), presetEpochs = recipe.Options.Epochs;
            int runEpochs = parse.GetValue(epochs) ?? presetEpochs;
            // By default the reference's 55 per-head nodes of GPT-2 small (its sites file's whole-layer nodes are IoiBench's).
            var nodes = parse.GetValue(sites) is { } path ? IoiBench.Sites.SitesFile.Load(path).Nodes
                : [.. IoiBench.Sites.SitesFile.Load(Path.Combine(AppContext.BaseDirectory, "models", "gpt2-small", "sites.yaml")).Nodes
                    .Where(n => !n.HeadHook.WholeLayer)];
            var timed = recipe with
            {
                Options = recipe.Options with
                {
                    Epochs = runEpochs,
                    ResampleAfterEpochs = [.. recipe.Options.ResampleAfterEpochs.Where(e => e < runEpochs - 1)],
                    Checkpoints = [.. recipe.Options.Checkpoints.Where(e => e <= runEpochs)],
                },
            };

            SiteActivations Random(int rows, ulong seed) => new(nodes, rows, nodes.Select((node, i) =>
            {
                var rng = new DeterministicRandom(seed, (ulong)i);
                var values = new Tensor(rows, d);
                for (int j = 0; j < values.Length; j++) values.Span[j] = (float)rng.NextGaussian();
                return KeyValuePair.Create(PromptVariants.Key(PromptVariant.Clean, node), values);
            }).ToDictionary());
            var train = Random(n, 1);
            var test = Random(Math.Max(n / 4, 1), 2);

            string output = Path.Combine(Path.GetTempPath(), $"ioibench-bench-train-{Environment.ProcessId}");
            var clock = Stopwatch.StartNew();
            var timings = new SweepTimings();
            try
            {
                using var progress = new ConsoleProgress(stderr);
                SaeSweep.Run(timed, train, test, output, "random", progress, device: device.Get(parse), timings: timings);
            }
            finally
            {
                if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            }
            double seconds = clock.Elapsed.TotalSeconds, training = timings.Training.Elapsed.TotalSeconds;
            double projected = seconds + (training + timings.Saving.Elapsed.TotalSeconds) / runEpochs * (presetEpochs - runEpochs);
            int saes = nodes.Count * recipe.Saes.Count * recipe.Seeds.Count;
            if (format.Get(parse) == OutputFormat.Json)
                stdout.WriteLine(CommonOptions.JsonLine(j =>
                {
                    j.WriteString("preset", recipe.Name);
                    j.WriteString("device", device.Get(parse).ToString().ToLowerInvariant());
                    j.Number("saes", saes);
                    j.Number("examples", n);
                    j.Number("epochs", runEpochs);
                    j.Number("seconds", seconds);
                    j.Number("training_seconds", training);
                    j.Number("saving_seconds", timings.Saving.Elapsed.TotalSeconds);
                    j.Number("finishing_seconds", timings.Finishing.Elapsed.TotalSeconds);
                    j.Number("projected_seconds", projected);
                }));
            else
            {
                string seeds = recipe.Seeds.Count > 1 ? $" × {recipe.Seeds.Count} seeds" : "";
                stdout.WriteLine($"{saes} SAEs ({nodes.Count} nodes × {recipe.Saes.Count}{seeds}), {n} examples of {d} floats, batch {recipe.Options.BatchSize}, " +
                                 $"on {device.Get(parse).ToString().ToLowerInvariant()}: {runEpochs} epochs in {seconds:F1} s");
                stdout.WriteLine($"  training {training:F1} s ({training / runEpochs * 1000:F0} ms per epoch of all SAEs), saving between epochs " +
                                 $"{timings.Saving.Elapsed.TotalSeconds:F1} s, final files and test scores {timings.Finishing.Elapsed.TotalSeconds:F1} s, " +
                                 $"set-up {seconds - training - timings.Saving.Elapsed.TotalSeconds - timings.Finishing.Elapsed.TotalSeconds:F1} s");
                if (runEpochs < presetEpochs)
                    stdout.WriteLine($"projected for the preset's {presetEpochs} epochs (training and saving per epoch as measured): {projected / 60:F1} min");
            }
            return 0;
        });
        return command;
    }
}
