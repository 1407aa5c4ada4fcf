using System.Globalization;
using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;
using YamlDotNet.RepresentationModel;

namespace IoiBench.Saes;

/// <summary>A variant's options, read from its preset entry (each variant has its own record).</summary>
public abstract record VariantOptions;

/// <summary>
/// One SAE architecture as the registry (<see cref="SaeVariants"/>) knows it; everything else — presets, sweeps, files,
/// selection, reports, the GPU check — asks it and never switches on names. A variant gives:
/// its preset entry (the sparsity key, λ or k, and typed options, parsed with errors naming the file and key); the CPU
/// model (<see cref="Create"/>: loss and analytic gradients); its dead-latent policy; its SAELens file mapping; its GPU
/// step; and the cases the device check trains. Adding a variant is one folder under Saes/Variants and one line in
/// <see cref="SaeVariants.All"/> (docs/saes.md, "Adding a variant").
/// </summary>
public abstract class SaeVariant
{
    /// <summary>The name in presets, files and reports, e.g. "vanilla".</summary>
    public abstract string Name { get; }

    /// <summary>One line for docs and help.</summary>
    public abstract string Summary { get; }

    /// <summary>The preset key of the sparsity settings: "l1" (a penalty's λ) or "k" (latents kept).</summary>
    public abstract string SparsityKey { get; }

    /// <summary>Whether the sparsity setting is a count of latents (k) rather than a coefficient.</summary>
    public virtual bool IntegerSparsity => false;

    /// <summary>The preset keys of the variant's options (besides <see cref="SparsityKey"/>).</summary>
    public virtual IReadOnlyList<string> OptionKeys => [];

    public abstract VariantOptions DefaultOptions { get; }

    /// <summary>
    /// The [batch × d_in]·[d_in × width]-sized matrix products of one CPU training step (encoder, decoder and their
    /// backward passes: 6 for one encoder), for benchmarks' flop counts.
    /// </summary>
    public virtual int ProductsPerStep => 6;

    /// <summary>The options of a preset entry; <paramref name="settings"/> reads keys with errors naming the file and line.</summary>
    public virtual VariantOptions ParseOptions(VariantSettings settings) => DefaultOptions;

    /// <summary>Why a sparsity value cannot be used at this width (null when it can).</summary>
    public virtual string? CheckSparsity(float value, int width, VariantOptions options) =>
        IntegerSparsity && value > width ? $"'{SparsityKey}' ({value}) must not exceed width ({width}): an SAE keeps {SparsityKey} of its latents." : null;

    /// <summary>A fresh SAE, initialised from <paramref name="rng"/>.</summary>
    public abstract SparseAutoencoder Create(int dIn, int width, float sparsity, VariantOptions options, DeterministicRandom rng);

    /// <summary>An SAE's name in a sweep: "vanilla-l1-2.5", "topk-k8".</summary>
    public string SpecName(float value) => IntegerSparsity
        ? $"{Name}-{SparsityKey}{value.ToString("0", CultureInfo.InvariantCulture)}"
        : $"{Name}-{SparsityKey}-{value.ToString("0.###", CultureInfo.InvariantCulture)}";

    /// <summary>How dead latents are revived by resampling (vanilla and gated); null when never resampled.</summary>
    public virtual ResamplingRule? Resampling => null;

    /// <summary>The SAELens <c>architecture</c> of the variant's files ("standard", "gated", "topk", "jumprelu").</summary>
    public abstract string Architecture { get; }

    /// <summary>Writes the variant's cfg.json fields: SAELens's into <paramref name="cfg"/>, the rest into <paramref name="ioibench"/>.</summary>
    public abstract void WriteConfig(SparseAutoencoder sae, JsonObject cfg, JsonObject ioibench);

    /// <summary>An SAE of the shape and options a cfg.json describes (its tensors are read afterwards).</summary>
    public abstract SparseAutoencoder FromConfig(ConfigReader cfg, int dIn, int dSae);

    /// <summary>
    /// The tensors a file holds for the SAE, by their stored names (default: every parameter and buffer as it is;
    /// JumpReLU stores threshold = exp(log_threshold), as SAELens does).
    /// </summary>
    public virtual IReadOnlyDictionary<string, Tensor> FileTensors(SparseAutoencoder sae) =>
        sae.Parameters.Tensors.Concat(sae.Buffers).ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Fills the SAE's tensors from a file's (the inverse of <see cref="FileTensors"/>); errors name the file and tensor.</summary>
    public virtual void ReadTensors(SparseAutoencoder sae, SafeTensorsFile file)
    {
        foreach (var (name, tensor) in sae.Parameters.Tensors.Concat(sae.Buffers)) SaeFile.ReadInto(file, name, tensor);
    }

    /// <summary>The variant's CUDA source in its folder (e.g. "vanilla.cu"), compiled after Saes/Training/Gpu/sae_common.cu.</summary>
    public abstract string KernelFile { get; }

    /// <summary>The CUDA sources of the variant's module after sae_common.cu, its own last (another variant's first when it reuses kernels).</summary>
    public virtual IReadOnlyList<string> KernelFiles => [KernelFile];

    /// <summary>The variant's GPU step for the batched trainer.</summary>
    internal abstract BatchedStep CreateGpuStep(BatchedSaeTrainer trainer);

    /// <summary>The SAE settings the device check trains on both devices: the defaults and the variant's other forms.</summary>
    public abstract IReadOnlyList<DeviceCheckCase> DeviceChecks { get; }

    public override string ToString() => Name;
}

/// <summary>
/// How a variant's dead latents are resampled (the reference's procedure, <see cref="DeadLatentResampler"/>): which
/// encoder weight gets the new directions, which per-latent tensors are reset to 0, and each training example's loss,
/// by which examples are drawn.
/// </summary>
public sealed record ResamplingRule(string Encoder, IReadOnlyList<string> ResetTensors, Func<SparseAutoencoder, Tensor, double[]> ExampleLosses);

/// <summary>
/// SAEs the device check trains on both devices from the same start (16 inputs, <paramref name="Width"/> latents); the
/// label names the form ("-ref": the reference's options; "-wide": a width that takes another kernel).
/// </summary>
public sealed record DeviceCheckCase(string Label, SaeSpec[] Specs, int Width = 64);

/// <summary>An SAE whose loss uses the latents found dead in the previous epoch (an AuxK term).</summary>
public interface IUsesDeadLatents
{
    /// <summary>Whether the loss reads <see cref="DeadLatents"/>.</summary>
    bool WantsDeadLatents { get; }

    /// <summary>The latents silent through the previous epoch, or null before the first.</summary>
    bool[]? DeadLatents { get; set; }
}

/// <summary>A preset entry of one variant: typed reads of its keys, with errors that name the file, the line and the key.</summary>
public sealed class VariantSettings(YamlFile yaml, YamlMappingNode settings, int width)
{
    public int Width => width;

    public bool Flag(string key, bool fallback)
    {
        if (yaml.Optional(settings, key) is not { } node) return fallback;
        return yaml.Scalar(node, key) switch { "true" => true, "false" => false, _ => throw yaml.Error(node, $"'{key}' must be true or false.") };
    }

    public int Integer(string key, int fallback, int minimum, int? maximum = null)
    {
        if (yaml.Optional(settings, key) is not { } node) return fallback;
        if (int.TryParse(yaml.Scalar(node, key), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum && value <= (maximum ?? int.MaxValue))
            return value;
        throw yaml.Error(node, maximum is { } max ? $"'{key}' must be an integer from {minimum} to {max}." : $"'{key}' must be an integer of at least {minimum}.");
    }

    public float Positive(string key, float fallback)
    {
        if (yaml.Optional(settings, key) is not { } node) return fallback;
        return float.TryParse(yaml.Scalar(node, key), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value > 0 && float.IsFinite(value)
            ? value : throw yaml.Error(node, $"'{key}' must be a positive number.");
    }

    public string Choice(string key, string fallback, params string[] choices)
    {
        if (yaml.Optional(settings, key) is not { } node) return fallback;
        string value = yaml.Scalar(node, key);
        return choices.Contains(value) ? value : throw yaml.Error(node, $"'{key}' must be {string.Join(" or ", choices)}.");
    }

    /// <summary>A list of integers, each checked by <paramref name="check"/> (null: fine) against the list read so far.</summary>
    public List<int>? Integers(string key, Func<int, List<int>, string?> check)
    {
        if (yaml.Optional(settings, key) is not { } node) return null;
        var values = new List<int>();
        foreach (var item in yaml.Sequence(node, key))
        {
            if (!int.TryParse(yaml.Scalar(item, key), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
                throw yaml.Error(item, $"'{key}' must list positive integers.");
            if (check(value, values) is { } problem) throw yaml.Error(item, $"'{key}': {problem}");
            values.Add(value);
        }
        return values;
    }
}

/// <summary>Typed reads of an SAE's cfg.json, with errors naming the file and the field.</summary>
public sealed class ConfigReader(string path, JsonObject cfg)
{
    public string Path => path;
    public JsonObject Json => cfg;

    /// <summary>A field of IoiBench's own <c>ioibench</c> object, or <paramref name="fallback"/>.</summary>
    public T Option<T>(string field, T fallback) => cfg["ioibench"]?[field] is JsonValue v && v.TryGetValue(out T? value) ? value! : fallback;

    public int PositiveInteger(JsonNode? node, string field) =>
        node is JsonValue v && v.TryGetValue(out int i) && i > 0 ? i : throw new InvalidInputException($"{path}: field '{field}' must be a positive integer.");
}
