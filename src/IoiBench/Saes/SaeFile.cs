using System.Text.Json;
using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// SAEs on disk in SAELens's layout: a directory with <c>cfg.json</c> and <c>sae_weights.safetensors</c> (float32,
/// parameter names as in <see cref="SaeParameters"/>). <c>cfg.json</c> carries SAELens's fields (architecture
/// "standard" | "gated" | "topk", d_in, d_sae, dtype, hook_name, hook_layer, hook_head_index, activation_fn_str,
/// activation_fn_kwargs, normalize_activations, apply_b_dec_to_input) plus an "ioibench" object with what SAELens
/// has no field for (the site, λ, the variant options, the activation scale). Weights are written first and cfg.json
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
    }

    public static void Save(string directory, SparseAutoencoder sae, Metadata metadata)
    {
        Directory.CreateDirectory(directory);
        SafeTensorsWriter.Write(Path.Combine(directory, WeightsFile), sae.Parameters.Tensors);
        var ioibench = new JsonObject
        {
            ["node"] = metadata.Node,
            ["activation_scale"] = metadata.ActivationScale,
        };
        if (metadata.Epoch is { } epoch) ioibench["epoch"] = epoch;
        if (metadata.TrainingFingerprint is { } fingerprint) ioibench["training_fingerprint"] = fingerprint;
        if (metadata.TrainingDevice is { } device) ioibench["training_device"] = device;
        var cfg = new JsonObject
        {
            ["d_in"] = sae.DIn,
            ["d_sae"] = sae.DSae,
            ["dtype"] = "float32",
            ["model_name"] = metadata.ModelName,
            ["hook_name"] = metadata.HookName,
            ["hook_layer"] = metadata.HookLayer,
            ["hook_head_index"] = metadata.HookHead,
            ["apply_b_dec_to_input"] = true,
            ["normalize_activations"] = "none",
            ["ioibench"] = ioibench,
        };
        switch (sae)
        {
            case VanillaSae v:
                cfg["architecture"] = "standard";
                cfg["activation_fn_str"] = "relu";
                ioibench["l1_coefficient"] = v.L1Coefficient;
                break;
            case GatedSae g:
                cfg["architecture"] = "gated";
                cfg["activation_fn_str"] = "relu";
                ioibench["l1_coefficient"] = g.L1Coefficient;
                ioibench["magnitude_relu"] = g.MagnitudeRelu;
                break;
            case TopKSae t:
                cfg["architecture"] = "topk";
                cfg["activation_fn_str"] = "topk";
                cfg["activation_fn_kwargs"] = new JsonObject { ["k"] = t.K };
                ioibench["relu"] = t.Relu;
                ioibench["encoder_bias"] = t.EncoderBias;
                ioibench["normalize_decoder"] = t.NormaliseDecoder;
                ioibench["aux_k"] = t.AuxK;
                ioibench["aux_k_coefficient"] = t.AuxKCoefficient;
                break;
            default:
                throw new ArgumentException($"No file format for {sae.GetType().Name}.");
        }
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), cfg.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

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
        string cfgPath = Path.Combine(directory, ConfigFile), weightsPath = Path.Combine(directory, WeightsFile);
        var cfg = ReadConfig(directory);

        int Int(JsonNode? node, string field) =>
            node is JsonValue v && v.TryGetValue(out int i) && i > 0 ? i : throw new InvalidInputException($"{cfgPath}: field '{field}' must be a positive integer.");
        T Option<T>(string field, T fallback) => cfg["ioibench"]?[field] is JsonValue v && v.TryGetValue(out T? value) ? value! : fallback;
        int dIn = Int(cfg["d_in"], "d_in"), dSae = Int(cfg["d_sae"], "d_sae");
        if (cfg["dtype"]?.GetValue<string>() is { } dtype && dtype != "float32")
            throw new InvalidInputException($"{cfgPath}: field 'dtype' is '{dtype}'; IoiBench reads float32 SAEs.");

        var rng = new DeterministicRandom(0);   // the initial values are all overwritten below
        float l1 = Option("l1_coefficient", 0f);
        SparseAutoencoder sae = cfg["architecture"]?.GetValue<string>() switch
        {
            "standard" => new VanillaSae(dIn, dSae, l1, rng),
            "gated" => new GatedSae(dIn, dSae, l1, rng, Option("magnitude_relu", true)),
            "topk" => new TopKSae(dIn, dSae, Int(cfg["activation_fn_kwargs"]?["k"], "activation_fn_kwargs.k"), rng,
                Option("relu", true), Option("encoder_bias", true)) { NormaliseDecoder = Option("normalize_decoder", true), AuxK = Option("aux_k", 0), AuxKCoefficient = Option("aux_k_coefficient", 1f / 32) },
            var other => throw new InvalidInputException($"{cfgPath}: field 'architecture' is '{other}'; expected standard, gated or topk."),
        };

        using var weights = SafeTensorsFile.Open(weightsPath);
        foreach (var (name, tensor) in sae.Parameters.Tensors)
        {
            // SAELens stores a gated SAE's gate matrix as W_enc.
            string stored = name == "W_gate" && !weights.Contains("W_gate") ? "W_enc" : name;
            var loaded = weights.ReadFloat32(stored);
            if (!loaded.Shape.SequenceEqual(tensor.Shape))
                throw new InvalidInputException($"{weightsPath}: tensor '{stored}' has shape [{string.Join(", ", loaded.Shape)}], expected [{string.Join(", ", tensor.Shape)}] from {ConfigFile}.");
            loaded.Span.CopyTo(tensor.Span);
        }
        return (sae, cfg);
    }
}
