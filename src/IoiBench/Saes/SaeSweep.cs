using IoiBench.Activations;
using IoiBench.Dictionaries;
using IoiBench.Numerics;
using IoiBench.Sites;

namespace IoiBench.Saes;

/// <summary>
/// Trains every (node, SAE) pair of a preset on the train activations (scaled per node), scores each on the test
/// activations and saves it in SAELens's layout under <c>OUTPUT/NODE/SAE/</c>. Each SAE's random stream depends only
/// on the preset's seed and its place in the sweep, so results do not depend on what else is trained.
/// </summary>
public static class SaeSweep
{
    public sealed record Result(SiteNode Node, SaeSpec Spec, string Directory, float Scale, EpochMetrics LastEpoch, ReconstructionQuality Test, double TestL0);

    public static SparseAutoencoder Create(SaeSpec spec, int dIn, int width, DeterministicRandom rng) => spec.Variant switch
    {
        "vanilla" => new VanillaSae(dIn, width, spec.Value, rng),
        "gated" => new GatedSae(dIn, width, spec.Value, rng),
        "topk" => new TopKSae(dIn, width, (int)spec.Value, rng),
        _ => throw new InvalidInputException($"unknown SAE variant '{spec.Variant}' (vanilla, gated, topk)."),
    };

    public static List<Result> Run(TrainingPreset preset, SiteActivations train, SiteActivations test, string outputDirectory, string modelName,
        IProgress<ProgressUpdate>? progress = null)
    {
        var results = new List<Result>();
        int total = train.Nodes.Count * preset.Saes.Count;
        for (int n = 0; n < train.Nodes.Count; n++)
        {
            var node = train.Nodes[n];
            var trainActivations = train.Get(node, PromptVariant.Clean);
            float scale = ActivationScale.Of(trainActivations);
            var data = ActivationScale.Apply(trainActivations, scale);
            var testData = ActivationScale.Apply(test.Get(node, PromptVariant.Clean), scale);
            for (int s = 0; s < preset.Saes.Count; s++)
            {
                var spec = preset.Saes[s];
                ulong stream = (ulong)(n * preset.Saes.Count + s);
                var sae = Create(spec, data.Shape[1], preset.Width, new DeterministicRandom(preset.Seed, stream));
                var history = SaeTrainer.Train(sae, data, preset.Options with { Seed = preset.Seed + stream });

                var latents = sae.Encode(testData);
                var quality = ReconstructionQuality.Measure(testData, sae.Decode(latents));
                double l0 = latents.Span.ToArray().Count(v => v != 0) / (double)testData.Shape[0];
                string directory = Path.Combine(outputDirectory, node.ToString(), spec.Name);
                SaeFile.Save(directory, sae, new SaeFile.Metadata(modelName, node.ToString(), node.Layer, node.Head,
                    $"blocks.{node.Layer}.attn.hook_{node.Hook.ToString().ToLowerInvariant()}", scale));
                results.Add(new Result(node, spec, directory, scale, history[^1], quality, l0));
                progress?.Report(new ProgressUpdate("training SAEs", results.Count, total));
            }
        }
        return results;
    }
}
