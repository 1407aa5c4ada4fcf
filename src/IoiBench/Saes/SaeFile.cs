using System.Text.Json;
using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// SAEs on disk in SAELens's layout: a directory with <c>cfg.json</c> and <c>sae_weights.safetensors</c> (float32,
/// tensor names as SAELens's). <c>cfg.json</c> carries SAELens's fields (architecture — each variant's
/// <see cref="SaeVariant.Architecture"/> — d_in, d_sae, dtype, hook_name, hook_layer, hook_head_index,
/// normalize_activations, apply_b_dec_to_input, and what the variant adds) plus an "ioibench" object with what SAELens
/// has no field for (the variant, the site, λ, the variant's options, the activation scale). Weights are written first and cfg.json
/// last, each atomically, so a directory with a cfg.json is complete. Loading is bit-exact.
/// </summary>
public static class SaeFile
{
    public const string ConfigFile = "cfg.json", WeightsFile = "sae_weights.safetensors";

    /// <summary>What the file records besides the weights.</summary>
    public sealed record Metadata(string ModelName, string Node, int HookLayer, int HookHead, string HookName, float ActivationScale)
    {
        /// <summary>Epochs trained (for checkpoints and final SAEs of a sweep).</summary>
        public int? Epoch { get; init; }

        /// <summary>A hash of everything the SAE was trained from (preset, data, seed): a sweep never reuses a stale SAE.</summary>
        public string? TrainingFingerprint { get; init; }

        /// <summary>Where the SAE's training finished ("cpu" or "cuda"): the two agree within float32 rounding, not bit for bit.</summary>
        public string? TrainingDevice { get; init; }

        /// <summary>The basis of the activations it was trained on (<see cref="Model.ModelBasis"/>'s name).</summary>
        public string? Basis { get; init; }
    }

    public static void Save(string directory, SparseAutoencoder sae, Metadata metadata)
    {
        var variant = sae.Variant;
        Directory.CreateDirectory(directory);
        SafeTensorsWriter.Write(Path.Combine(directory, WeightsFile), variant.FileTensors(sae));
        var ioibench = new JsonObject
        {
            ["variant"] = variant.Name,
            ["node"] = metadata.Node,
            ["activation_scale"] = metadata.ActivationScale,
        };
        if (metadata.Epoch is { } epoch) ioibench["epoch"] = epoch;
        if (metadata.TrainingFingerprint is { } fingerprint) ioibench["training_fingerprint"] = fingerprint;
        if (metadata.TrainingDevice is { } device) ioibench["training_device"] = device;
        if (metadata.Basis is { } basis) ioibench["basis"] = basis;
        var cfg = new JsonObject
        {
            ["architecture"] = variant.Architecture,
            ["d_in"] = sae.DIn,
            ["d_sae"] = sae.DSae,
            ["dtype"] = "float32",
            ["model_name"] = metadata.ModelName,
            ["hook_name"] = metadata.HookName,
            ["hook_layer"] = metadata.HookLayer,
            ["hook_head_index"] = HeadIndex(metadata.HookHead),
            ["apply_b_dec_to_input"] = true,
            ["normalize_activations"] = "none",
            // A whole layer's z is every head's, flattened: what SAELens's hook_z SAEs read.
            ["reshape_activations"] = metadata.HookHead < 0 && metadata.HookName.EndsWith(".attn.hook_z", StringComparison.Ordinal) ? "hook_z" : "none",
            // SAELens 6 reads the hook from here (the top-level fields above are its earlier versions').
            ["metadata"] = new JsonObject
            {
                ["model_name"] = metadata.ModelName,
                ["hook_name"] = metadata.HookName,
                ["hook_head_index"] = HeadIndex(metadata.HookHead),
            },
        };
        variant.WriteConfig(sae, cfg, ioibench);
        cfg["ioibench"] = ioibench;
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), cfg.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>SAELens's hook_head_index: the head, or null for a whole layer's hook.</summary>
    private static JsonNode? HeadIndex(int head) => head < 0 ? null : JsonValue.Create(head);

    /// <summary>An SAE directory's cfg.json.</summary>
    public static JsonObject ReadConfig(string directory)
    {
        string cfgPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(cfgPath)) throw new InvalidInputException($"{cfgPath}: file not found (an SAE directory needs {ConfigFile} and {WeightsFile}).");
        try { return JsonNode.Parse(File.ReadAllText(cfgPath)) as JsonObject ?? throw new InvalidInputException($"{cfgPath}: expected a JSON object."); }
        catch (JsonException e) { throw new InvalidInputException($"{cfgPath}: not valid JSON ({e.Message}).", e); }
    }

    public static (SparseAutoencoder Sae, JsonObject Config) Load(string directory)
    {
        string cfgPath = Path.Combine(directory, ConfigFile);
        var json = ReadConfig(directory);
        var cfg = new ConfigReader(cfgPath, json);
        int dIn = cfg.PositiveInteger(json["d_in"], "d_in"), dSae = cfg.PositiveInteger(json["d_sae"], "d_sae");
        if (json["dtype"]?.GetValue<string>() is { } dtype && dtype != "float32")
            throw new InvalidInputException($"{cfgPath}: field 'dtype' is '{dtype}'; IoiBench reads float32 SAEs.");
        var sae = VariantOf(cfg).FromConfig(cfg, dIn, dSae);
        using var weights = SafeTensorsFile.Open(Path.Combine(directory, WeightsFile));
        sae.Variant.ReadTensors(sae, weights);
        return (sae, json);
    }

    /// <summary>
    /// The variant a cfg.json describes: IoiBench's own <c>ioibench.variant</c> when present, else the one that writes
    /// SAELens's <c>architecture</c> (several of IoiBench's variants write "jumprelu"; the first registered is read).
    /// </summary>
    private static SaeVariant VariantOf(ConfigReader cfg)
    {
        if (cfg.Json["ioibench"]?["variant"]?.GetValue<string>() is { } name)
            return SaeVariants.Find(name) ?? throw new InvalidInputException(
                $"{cfg.Path}: field 'ioibench.variant' is '{name}'; known: {SaeVariants.Names}.");
        string? architecture = cfg.Json["architecture"]?.GetValue<string>();
        return SaeVariants.All.FirstOrDefault(v => v.Architecture == architecture) ?? throw new InvalidInputException(
            $"{cfg.Path}: field 'architecture' is '{architecture}'; expected {string.Join(", ", SaeVariants.All.Select(v => v.Architecture).Distinct())}.");
    }

    /// <summary>
    /// Copies a stored tensor into <paramref name="tensor"/>, checking its shape; <paramref name="stored"/> names it in
    /// the file when that differs from the SAE's own name.
    /// </summary>
    public static void ReadInto(SafeTensorsFile file, string stored, Tensor tensor)
    {
        var loaded = file.ReadFloat32(stored);
        if (!loaded.Shape.SequenceEqual(tensor.Shape))
            throw new InvalidInputException($"{file.Path}: tensor '{stored}' has shape [{string.Join(", ", loaded.Shape)}], " +
                                            $"expected [{string.Join(", ", tensor.Shape)}] from {ConfigFile}.");
        loaded.Span.CopyTo(tensor.Span);
    }
}
