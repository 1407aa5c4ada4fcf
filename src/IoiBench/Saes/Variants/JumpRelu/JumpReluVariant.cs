using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// JumpReLU options: <c>bandwidth</c>, the straight-through estimator's ε, and <c>initial_threshold</c>, θ at the start.
/// Defaults 0.1 and 1, not SAELens's 0.05 and 0.01: IoiBench scales activations to a mean norm of √d_in, where a
/// unit-norm encoder column reads noise of about unit size, and Adam moves log θ by about the learning rate per step,
/// so a threshold starting at 0.01 would still be far below the noise after the tens of epochs presets train for
/// (docs/saes.md).
/// </summary>
public sealed record JumpReluOptions(float Bandwidth = 0.1f, float InitialThreshold = 1f) : VariantOptions;

/// <summary>The JumpReLU SAE's registry entry: λ of the L0 penalty as "l0", SAELens "jumprelu" files with threshold.</summary>
public sealed class JumpReluVariant : SaeVariant
{
    public static readonly JumpReluVariant Instance = new();

    public override string Name => "jumprelu";
    public override string Summary => "a learned threshold per latent (straight-through gradients) and an L0 penalty";
    public override string SparsityKey => "l0";
    public override IReadOnlyList<string> OptionKeys => ["bandwidth", "initial_threshold"];
    public override VariantOptions DefaultOptions { get; } = new JumpReluOptions();

    public override VariantOptions ParseOptions(VariantSettings settings) =>
        new JumpReluOptions(settings.Positive("bandwidth", 0.1f), settings.Positive("initial_threshold", 1f));

    public override SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng)
    {
        var o = (JumpReluOptions)options;
        return new JumpReluSae(dIn, width, sparsity, rng, o.Bandwidth, o.InitialThreshold);
    }

    public override string Architecture => "jumprelu";

    public override void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench)
    {
        var j = (JumpReluSae)sae;
        ioibench["l0_coefficient"] = j.L0Coefficient;
        ioibench["bandwidth"] = j.Bandwidth;
    }

    public override SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae) =>
        new JumpReluSae(dIn, dSae, cfg.Option("l0_coefficient", 0f), new DeterministicRandom(0), cfg.Option("bandwidth", 0.1f));

    /// <summary>SAELens stores θ itself, as <c>threshold</c>, not its logarithm.</summary>
    public override IReadOnlyDictionary<string, Tensor> FileTensors(SparseAutoencoder sae)
    {
        var tensors = base.FileTensors(sae).Where(p => p.Key != "log_threshold").ToDictionary(p => p.Key, p => p.Value);
        var theta = ((JumpReluSae)sae).Thresholds();
        tensors["threshold"] = Tensor.From(theta, theta.Length);
        return tensors;
    }

    public override void ReadTensors(SparseAutoencoder sae, SafeTensorsFile file)
    {
        foreach (var (name, tensor) in sae.Parameters.Tensors.Where(p => p.Key != "log_threshold")) SaeFile.ReadInto(file, name, tensor);
        var theta = new Tensor(sae.DSae);
        SaeFile.ReadInto(file, "threshold", theta);
        var log = sae.Parameters["log_threshold"].Span;
        for (int j = 0; j < log.Length; j++)
        {
            if (!(theta.Span[j] > 0)) throw new InvalidInputException($"{file.Path}: tensor 'threshold' holds {theta.Span[j]} at {j}; thresholds are positive.");
            log[j] = InverseExp(theta.Span[j]);
        }
    }

    /// <summary>
    /// A float whose exp rounds back to <paramref name="theta"/> when there is one near log θ (always for a threshold
    /// IoiBench wrote), so that a loaded SAE computes exactly what the saved one did.
    /// </summary>
    private static float InverseExp(float theta)
    {
        float log = MathF.Log(theta), candidate = log;
        for (int step = 0; step < 8 && MathF.Exp(candidate) != theta; step++)
            candidate = MathF.Exp(candidate) < theta ? MathF.BitIncrement(candidate) : MathF.BitDecrement(candidate);
        return MathF.Exp(candidate) == theta ? candidate : log;
    }

    public override string KernelFile => "jumprelu.cu";

    internal override BatchedStep CreateGpuStep(BatchedSaeTrainer trainer) => new JumpReluStep(trainer);

    public override IReadOnlyList<DeviceCheckCase> DeviceChecks { get; } =
    [
        new("jumprelu", [new("jumprelu", 0.05f), new("jumprelu", 0.5f)]),
        new("jumprelu-early", [new("jumprelu", 0.2f, new JumpReluOptions(Bandwidth: 0.05f, InitialThreshold: 0.01f))]),
    ];
}
