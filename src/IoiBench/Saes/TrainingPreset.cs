using System.Globalization;
using IoiBench.IO;
using YamlDotNet.RepresentationModel;

namespace IoiBench.Saes;

/// <summary>
/// An SAE training recipe from a YAML preset (<c>presets/*.yaml</c>): width, batch size, epochs, learning rate, seeds,
/// resampling schedule, checkpoints, and the variants with their λ or k values and options. Every SAE is trained once
/// per seed (<c>seeds: [0, 1, 2]</c>, or one <c>seed</c>); <see cref="TrainingOptions.Seed"/> is the first, whose SAEs
/// every readout uses, while the others measure how much the edits depend on the seed. Unknown keys are errors naming
/// the file, the line and the key.
/// </summary>
public sealed record TrainingPreset(string Name, int Width, IReadOnlyList<SaeSpec> Saes, TrainingOptions Options)
{
    /// <summary>The seeds every SAE is trained with, the first being <see cref="TrainingOptions.Seed"/>.</summary>
    public IReadOnlyList<ulong> Seeds { get; init; } = [Options.Seed];

    public static TrainingPreset Load(string path)
    {
        var yaml = YamlFile.Load(path);
        var root = yaml.Root;
        yaml.CheckKeys(root, "width", "batch_size", "epochs", "learning_rate", "lr_schedule", "seed", "seeds", "resample_after_epochs", "warmup_epochs",
            "checkpoints", "decoder_bias_init", "variants");

        int Integer(YamlNode node, string key, int minimum) =>
            int.TryParse(yaml.Scalar(node, key), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum
                ? value : throw yaml.Error(node, minimum > 0 ? $"'{key}' must be a positive integer." : $"'{key}' must be a non-negative integer.");
        float Positive(YamlNode node, string key) =>
            float.TryParse(yaml.Scalar(node, key), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value > 0
                ? value : throw yaml.Error(node, $"'{key}' must be a positive number.");
        List<int> Integers(string key, int minimum) => yaml.Optional(root, key) is { } node
            ? [.. yaml.Sequence(node, key).Select(item => Integer(item, key, minimum))]
            : [];

        int width = Integer(yaml.Required(root, "width"), "width", 1);
        int epochs = Integer(yaml.Required(root, "epochs"), "epochs", 1);
        var checkpoints = Integers("checkpoints", 1);
        if (yaml.Optional(root, "checkpoints") is { } checkpointsNode && checkpoints.Any(c => c > epochs))
            throw yaml.Error(checkpointsNode, $"'checkpoints' are end epochs and must not exceed epochs ({epochs}).");
        var resample = Integers("resample_after_epochs", 0);
        if (yaml.Optional(root, "resample_after_epochs") is { } resampleNode && resample.Any(r => r >= epochs - 1))
            throw yaml.Error(resampleNode, $"'resample_after_epochs' are 0-based epochs and must be below {epochs - 1} (the last epoch).");

        var saes = ReadVariants(yaml, yaml.Mapping(yaml.Required(root, "variants"), "variants"), width);

        ulong Seed(YamlNode node, string key) =>
            ulong.TryParse(yaml.Scalar(node, key), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s : throw yaml.Error(node, $"'{key}' must be a non-negative integer.");
        List<ulong> seeds = [0];
        if (yaml.Optional(root, "seeds") is { } seedsNode)
        {
            if (yaml.Optional(root, "seed") is { } both) throw yaml.Error(both, "give either 'seed' or 'seeds', not both.");
            seeds = [.. yaml.Sequence(seedsNode, "seeds").Select(item => Seed(item, "seeds"))];
            if (seeds.Count == 0) throw yaml.Error(seedsNode, "'seeds' is empty.");
            if (seeds.Distinct().Count() != seeds.Count) throw yaml.Error(seedsNode, "'seeds' lists a seed twice.");
        }
        else if (yaml.Optional(root, "seed") is { } seedNode) seeds = [Seed(seedNode, "seed")];
        ulong seed = seeds[0];
        var trainingOptions = new TrainingOptions(Integer(yaml.Required(root, "batch_size"), "batch_size", 1), epochs,
            Positive(yaml.Required(root, "learning_rate"), "learning_rate"), seed)
        {
            ResampleAfterEpochs = resample,
            WarmupEpochs = yaml.Optional(root, "warmup_epochs") is { } warmup ? Integer(warmup, "warmup_epochs", 0) : 0,
            Checkpoints = checkpoints.Count > 0 ? checkpoints : [epochs],
            DecoderBiasFromMean = yaml.Optional(root, "decoder_bias_init") is { } init && yaml.Scalar(init, "decoder_bias_init") switch
            {
                "mean" => true,
                "zeros" => false,
                _ => throw yaml.Error(init, "'decoder_bias_init' must be mean or zeros."),
            },
            Schedule = yaml.Optional(root, "lr_schedule") is not { } schedule ? LearningRateSchedule.Linear : yaml.Scalar(schedule, "lr_schedule") switch
            {
                "linear" => LearningRateSchedule.Linear,
                "reference" => LearningRateSchedule.Reference,
                _ => throw yaml.Error(schedule, "'lr_schedule' must be linear or reference."),
            },
        };
        // The reference's scheduler cannot be in a warm-up and in its final decay at once (it raises an error).
        int decayStart = epochs - epochs / 4;
        if (trainingOptions.Schedule == LearningRateSchedule.Reference && resample.Any(r => r + trainingOptions.WarmupEpochs + 1 >= decayStart))
            throw yaml.Error(yaml.Optional(root, "resample_after_epochs")!,
                $"with lr_schedule: reference, a resample's warm-up of {trainingOptions.WarmupEpochs} epochs must end before the final decay (epoch {decayStart}).");
        return new TrainingPreset(Path.GetFileNameWithoutExtension(path), width, saes, trainingOptions) { Seeds = seeds };
    }

    /// <summary>
    /// The SAEs of the <c>variants</c> mapping: each key a registered variant, each with its sparsity list (λ under
    /// "l1", k under "k") and its own options, parsed and checked by the variant.
    /// </summary>
    private static List<SaeSpec> ReadVariants(YamlFile yaml, YamlMappingNode variants, int width)
    {
        var saes = new List<SaeSpec>();
        foreach (var (keyNode, valueNode) in variants.Children)
        {
            string name = yaml.Scalar(keyNode, "variants");
            var variant = SaeVariants.Find(name) ?? throw yaml.Error(keyNode, $"unknown SAE variant '{name}' (known: {SaeVariants.Names}).");
            var settings = yaml.Mapping(valueNode, name);
            yaml.CheckKeys(settings, [variant.SparsityKey, .. variant.OptionKeys]);
            var options = variant.ParseOptions(new VariantSettings(yaml, settings, width));
            string key = variant.SparsityKey;
            foreach (var item in yaml.Sequence(yaml.Required(settings, key), key))
            {
                string text = yaml.Scalar(item, key);
                float value = variant.IntegerSparsity
                    ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 1
                        ? k : throw yaml.Error(item, $"'{key}' must list positive integers.")
                    : float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float l) && l > 0 && float.IsFinite(l)
                        ? l : throw yaml.Error(item, $"'{key}' must list positive numbers.");
                if (variant.CheckSparsity(value, width, options) is { } problem) throw yaml.Error(item, problem);
                saes.Add(new SaeSpec(name, value, options));
            }
        }
        return saes;
    }
}
