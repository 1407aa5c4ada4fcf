using System.Globalization;
using IoiBench.IO;

namespace IoiBench.Saes;

/// <summary>One SAE of a sweep: its variant and its sparsity setting (λ for vanilla and gated, k for top-k).</summary>
public sealed record SaeSpec(string Variant, float Value)
{
    public string Name => Variant == "topk" ? $"topk-k{Value:0}" : $"{Variant}-l1-{Value.ToString("0.###", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// An SAE training recipe from a YAML preset (<c>presets/*.yaml</c>): width, batch size, epochs, learning rate, seed and
/// the variants with their λ or k values. Unknown keys are errors naming the file, the line and the key.
/// </summary>
public sealed record TrainingPreset(string Name, int Width, int BatchSize, int Epochs, float LearningRate, ulong Seed, IReadOnlyList<SaeSpec> Saes)
{
    public TrainingOptions Options => new(BatchSize, Epochs, LearningRate, Seed);

    public static TrainingPreset Load(string path)
    {
        var yaml = YamlFile.Load(path);
        yaml.CheckKeys(yaml.Root, "width", "batch_size", "epochs", "learning_rate", "seed", "variants");
        int Positive(string key)
        {
            var node = yaml.Required(yaml.Root, key);
            return int.TryParse(yaml.Scalar(node, key), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
                ? value : throw yaml.Error(node, $"'{key}' must be a positive integer.");
        }
        float Number(YamlDotNet.RepresentationModel.YamlNode node, string key) =>
            float.TryParse(yaml.Scalar(node, key), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value > 0
                ? value : throw yaml.Error(node, $"'{key}' must be a positive number.");

        var variantsNode = yaml.Mapping(yaml.Required(yaml.Root, "variants"), "variants");
        yaml.CheckKeys(variantsNode, "vanilla", "gated", "topk");
        var saes = new List<SaeSpec>();
        foreach (var (keyNode, valueNode) in variantsNode.Children)
        {
            string variant = yaml.Scalar(keyNode, "variants");
            string parameter = variant == "topk" ? "k" : "l1";
            var settings = yaml.Mapping(valueNode, variant);
            yaml.CheckKeys(settings, parameter);
            foreach (var item in yaml.Sequence(yaml.Required(settings, parameter), parameter))
                saes.Add(new SaeSpec(variant, Number(item, parameter)));
        }
        ulong seed = yaml.Optional(yaml.Root, "seed") is { } seedNode
            ? ulong.TryParse(yaml.Scalar(seedNode, "seed"), out ulong s) ? s : throw yaml.Error(seedNode, "'seed' must be a non-negative integer.")
            : 0;
        return new TrainingPreset(Path.GetFileNameWithoutExtension(path), Positive("width"), Positive("batch_size"), Positive("epochs"),
            Number(yaml.Required(yaml.Root, "learning_rate"), "learning_rate"), seed, saes);
    }
}
