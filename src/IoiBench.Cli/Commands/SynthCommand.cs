using System.CommandLine;
using IoiBench.Saes;

namespace IoiBench.Cli.Commands;

/// <summary>
/// <c>ioibench synth</c>: trains the SAEs of a preset on synthetic data with known features (Sharkey et al.'s toy
/// setting) and reports how well each recovers them.
/// </summary>
internal static class SynthCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var preset = CommonOptions.Preset("synthetic");
        var features = CommonOptions.Number("--features", "True features", fallback: 128, minimum: 1);
        var dimension = CommonOptions.Number("--dimension", "Input dimension", fallback: 64, minimum: 1);
        var samples = CommonOptions.Number("--samples", "Training samples", fallback: 20_000, minimum: 1);
        var active = CommonOptions.Number("--active", "Mean number of active features per sample", fallback: 5.0, minimum: 0.0, strictly: true);
        var seed = new Option<ulong>("--data-seed") { Description = "Seed of the features and samples", DefaultValueFactory = _ => 1 };
        var format = CommonOptions.Format();
        var command = new Command("synth", "Train SAEs on synthetic data with known features and report feature recovery (mean max cosine)")
            { preset, features, dimension, samples, active, seed, format };
        command.SetAction(parse =>
        {
            var recipe = Defaults.LoadPreset(parse.GetValue(preset)!);
            var setting = new SyntheticRecovery.Setting(parse.GetValue(dimension), parse.GetValue(features), parse.GetValue(samples), parse.GetValue(active), parse.GetValue(seed));
            List<SyntheticRecovery.Result> results;
            using (var progress = new ConsoleProgress(stderr)) results = SyntheticRecovery.Run(recipe, setting, progress);

            bool json = format.Get(parse) == OutputFormat.Json;
            if (!json)
                stdout.WriteLine($"{setting.Features} features in {setting.Dimension} dimensions, {setting.MeanActive:0.#} active per sample on average, {setting.Samples} samples; preset {recipe.Name}");
            if (!json) stdout.WriteLine($"{"variant",-10} {"sae",-18} {"mmcs",6} {"EV",6} {"L0",6} {"dead",6}");
            foreach (var r in results)
            {
                if (json)
                    stdout.WriteLine(CommonOptions.JsonLine(j =>
                    {
                        j.WriteString("variant", r.Spec.Variant);
                        j.WriteString("sae", r.Spec.Name);
                        j.Number("mmcs", r.MeanMaxCosine);
                        j.Number("explained_variance", r.LastEpoch.ExplainedVariance);
                        j.Number("l0", r.LastEpoch.L0);
                        j.Number("fraction_dead", r.LastEpoch.FractionDead);
                    }));
                else
                    stdout.WriteLine($"{r.Spec.Variant,-10} {r.Spec.Name,-18} {r.MeanMaxCosine,6:F3} {r.LastEpoch.ExplainedVariance,6:F3} {r.LastEpoch.L0,6:F1} {r.LastEpoch.FractionDead,6:F2}");
            }
            if (!json) stdout.WriteLine("mmcs: mean over the true features of the best cosine with any decoder row (1 = every feature recovered); EV, L0, dead: last training epoch");
            return 0;
        });
        return command;
    }
}
