using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>Gated options: <c>magnitude_relu</c> (false: the reference's magnitude path without its ReLU).</summary>
public sealed record GatedOptions(bool MagnitudeRelu = true) : VariantOptions;

/// <summary>The gated SAE's registry entry (Rajamanoharan et al. 2024): λ as "l1", SAELens "gated" files, resampling.</summary>
public sealed class GatedVariant : SaeVariant
{
    private const int LossBatch = 64;

    public static readonly GatedVariant Instance = new();

    public override string Name => "gated";
    public override string Summary => "a gate (its ReLU penalised by L1) decides which latents are active, a magnitude path how much";
    public override string SparsityKey => "l1";
    public override IReadOnlyList<string> OptionKeys => ["magnitude_relu"];
    public override VariantOptions DefaultOptions { get; } = new GatedOptions();

    /// <summary>Two encoder paths and the auxiliary decoder: four products more than one encoder's six.</summary>
    public override int ProductsPerStep => 10;

    public override VariantOptions ParseOptions(VariantSettings settings) => new GatedOptions(settings.Flag("magnitude_relu", true));

    public override SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng) =>
        new GatedSae(dIn, width, sparsity, rng, ((GatedOptions)options).MagnitudeRelu);

    /// <summary>The reference weighs each example by its batch's mean loss (batches of 64).</summary>
    public override ResamplingRule Resampling { get; } = new("W_gate", ["b_gate", "b_mag", "r_mag"], ExampleLosses);

    private static double[] ExampleLosses(SparseAutoencoder sae, Tensor data)
    {
        int n = data.Shape[0];
        var losses = new double[n];
        for (int start = 0; start < n; start += LossBatch)
        {
            int size = Math.Min(LossBatch, n - start);
            double loss = sae.Loss(data.Slice(start, size), null).Total;
            for (int p = start; p < start + size; p++) losses[p] = loss;
        }
        return losses;
    }

    public override string Architecture => "gated";

    public override void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench)
    {
        cfg["activation_fn_str"] = "relu";
        ioibench["l1_coefficient"] = sae.SparsityCoefficient;
        ioibench["magnitude_relu"] = ((GatedSae)sae).MagnitudeRelu;
    }

    public override SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae) =>
        new GatedSae(dIn, dSae, cfg.Option("l1_coefficient", 0f), new DeterministicRandom(0), cfg.Option("magnitude_relu", true));

    public override string KernelFile => "gated.cu";

    /// <summary>SAELens names the gate's matrix W_enc (its magnitude path reads it too).</summary>
    public override IReadOnlyDictionary<string, Tensor> FileTensors(SparseAutoencoder sae) =>
        base.FileTensors(sae).ToDictionary(p => p.Key == "W_gate" ? "W_enc" : p.Key, p => p.Value);

    /// <summary>Reads the gate's matrix as W_enc (SAELens, and IoiBench's files), or as W_gate (older IoiBench files).</summary>
    public override void ReadTensors(SparseAutoencoder sae, SafeTensorsFile file)
    {
        foreach (var (name, tensor) in sae.Parameters.Tensors)
            SaeFile.ReadInto(file, name == "W_gate" && !file.Contains("W_gate") ? "W_enc" : name, tensor);
    }

    internal override BatchedStep CreateGpuStep(BatchedSaeTrainer trainer) => new GatedStep(trainer);

    public override IReadOnlyList<DeviceCheckCase> DeviceChecks { get; } =
    [
        new("gated-ref", [new("gated", 0.5f, new GatedOptions(MagnitudeRelu: false)), new("gated", 2f, new GatedOptions(MagnitudeRelu: false))]),
        new("gated", [new("gated", 1f)]),
    ];
}
