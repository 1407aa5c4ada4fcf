using System.Text.Json.Nodes;
using IoiBench.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace IoiBench.Saes;

/// <summary>The vanilla SAE has no options.</summary>
public sealed record VanillaOptions : VariantOptions;

/// <summary>The vanilla SAE's registry entry: λ as "l1", SAELens "standard" files, the reference's resampling.</summary>
public sealed class VanillaVariant : SaeVariant
{
    public static readonly VanillaVariant Instance = new();

    public override string Name => "vanilla";
    public override string Summary => "ReLU encoder with an L1 penalty on the latents; unit-norm decoder rows";
    public override string SparsityKey => "l1";
    public override VariantOptions DefaultOptions { get; } = new VanillaOptions();

    public override SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng) =>
        new VanillaSae(dIn, width, sparsity, rng);

    /// <summary>Each example's own loss, ‖x̂ − x‖² + λ·Σ f, draws it.</summary>
    public override ResamplingRule Resampling { get; } = new("W_enc", ["b_enc"], ExampleLosses);

    private static double[] ExampleLosses(SparseAutoencoder sae, Tensor data)
    {
        var latents = sae.Encode(data);
        var reconstruction = sae.Decode(latents);
        var losses = new double[data.Shape[0]];
        for (int p = 0; p < losses.Length; p++)
        {
            var x = data.Row(p);
            var y = reconstruction.Row(p);
            double squared = 0;
            for (int i = 0; i < x.Length; i++) squared += (double)(y[i] - x[i]) * (y[i] - x[i]);
            losses[p] = squared + sae.SparsityCoefficient * TensorPrimitives.Sum(latents.Row(p));
        }
        return losses;
    }

    public override string Architecture => "standard";

    public override void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench)
    {
        cfg["activation_fn_str"] = "relu";
        ioibench["l1_coefficient"] = sae.SparsityCoefficient;
    }

    public override SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae) =>
        new VanillaSae(dIn, dSae, cfg.Option("l1_coefficient", 0f), new DeterministicRandom(0));

    public override string KernelFile => "vanilla.cu";

    internal override BatchedStep CreateGpuStep(BatchedSaeTrainer trainer) => new VanillaStep(trainer);

    public override IReadOnlyList<DeviceCheckCase> DeviceChecks { get; } =
        [new("vanilla", [new("vanilla", 0.5f), new("vanilla", 2f)])];
}
