using System.Text.Json;
using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// SAELens's SAE folders (6.x, and 5.x's top-level hook fields): <c>cfg.json</c> + <c>sae_weights.safetensors</c>,
/// architectures standard, gated, topk and jumprelu, for inference. What SAELens does to an input before its encoder is
/// folded into the weights, so the SAE is one of IoiBench's own: <c>apply_b_dec_to_input: false</c> moves b_dec·W_enc
/// into the encoder's bias; topk's <c>rescale_acts_by_decoder_norm</c> scales each latent's encoder column and bias by
/// its decoder row's norm and the row to unit norm; <c>normalize_activations: expected_average_only_in</c> becomes the
/// activation scale (the SAE reads x·s, s from <c>activation_scaler.json</c>). <c>reshape_activations: hook_z</c> reads
/// every head's z concatenated, which is a whole layer's z site. SAEs read activations in TransformerLens's basis.
/// </summary>
public static class SaeLensFormat
{
    public const string WeightsFile = "sae_weights.safetensors", ScalerFile = "activation_scaler.json";

    public static ImportedSae Read(string directory, string name, JsonObject cfg, string hash)
    {
        string cfgPath = Path.Combine(directory, SaeFile.ConfigFile);
        var reader = new ConfigReader(cfgPath, cfg);
        int dIn = reader.PositiveInteger(cfg["d_in"], "d_in"), dSae = reader.PositiveInteger(cfg["d_sae"], "d_sae");
        var hook = Hook(cfgPath, cfg);
        float scale = Scale(directory, cfgPath, String(cfg, "normalize_activations") ?? "none");

        string architecture = String(cfg, "architecture") ?? "standard";
        bool topk = architecture == "topk" || (architecture == "standard" && String(cfg, "activation_fn_str") == "topk");
        var rng = new DeterministicRandom(0);   // every value is read from the file
        SparseAutoencoder sae = architecture switch
        {
            _ when topk => new TopKSae(dIn, dSae, K(reader, cfg), rng),
            "standard" => new VanillaSae(dIn, dSae, 0f, rng),
            "gated" => new GatedSae(dIn, dSae, 0f, rng),
            "jumprelu" => new JumpReluSae(dIn, dSae, 0f, rng),
            _ => throw new InvalidInputException($"{cfgPath}: field 'architecture' is '{architecture}'; IoiBench scores " +
                                                 "standard, gated, topk " +
                                                 "and jumprelu SAELens SAEs."),
        };
        using (var weights = SafeTensorsFile.Open(Path.Combine(directory, WeightsFile)))
            sae.Variant.ReadTensors(sae, weights);

        WarnOnOtherProcessing(cfgPath, cfg);
        if (Flag(cfg, "apply_b_dec_to_input") == false) FoldDecoderBias(sae);
        if (topk && Flag(cfg, "rescale_acts_by_decoder_norm") == true) FoldDecoderNorms(sae);
        return new ImportedSae(name, directory, "saelens", sae, scale, hook, ModelBasis.TransformerLens, hash);
    }

    /// <summary>
    /// TransformerLens's weight processing the SAE's model was loaded with, when metadata.model_from_pretrained_kwargs
    /// changes a default: its activations are then in another basis than the transformerlens one, which is warned of.
    /// </summary>
    private static void WarnOnOtherProcessing(string cfgPath, JsonObject cfg)
    {
        if (cfg["metadata"]?["model_from_pretrained_kwargs"] is not JsonObject kwargs) return;
        string[] defaults = ["fold_ln", "center_writing_weights", "center_unembed", "fold_value_biases"];
        var changed = defaults.Where(f => kwargs[f] is JsonValue v && v.TryGetValue(out bool on) && !on)
            .Select(f => $"{f}=False").ToList();
        if (kwargs["refactor_factored_attn_matrices"] is JsonValue r && r.TryGetValue(out bool refactor) && refactor)
            changed.Add("refactor_factored_attn_matrices=True");
        if (changed.Count > 0)
            Warnings.Emit($"{cfgPath}: field 'metadata.model_from_pretrained_kwargs' loads the model with " +
                          $"{string.Join(", ", changed)}; " +
                          "its activations differ from the transformerlens basis IoiBench reads (docs/scoring.md).");
    }

    private static string? String(JsonObject cfg, string field) =>
        cfg[field] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static bool? Flag(JsonObject cfg, string field) => cfg[field] is JsonValue v && v.TryGetValue(out bool b) ? b : null;

    /// <summary>metadata.hook_name (6.x) or hook_name (5.x), and the head index beside it.</summary>
    private static HeadHook Hook(string cfgPath, JsonObject cfg)
    {
        var metadata = cfg["metadata"] as JsonObject;
        string field = metadata?["hook_name"] is not null ? "metadata.hook_name" : "hook_name";
        string hookName = (metadata?["hook_name"] ?? cfg["hook_name"]) is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new InvalidInputException($"{cfgPath}: field 'metadata.hook_name' is missing (the hook the SAE was " +
                                              "trained on).");
        var headNode = metadata?["hook_head_index"] ?? cfg["hook_head_index"];
        int? head = headNode is JsonValue h && h.TryGetValue(out int index) ? index : null;
        if (String(cfg, "reshape_activations") == "hook_z") head = null;   // every head's z, concatenated
        return HookNames.FromTransformerLens(hookName, head) ?? throw new InvalidInputException(
            $"{cfgPath}: field '{field}' is '{hookName}'{(head is { } hd ? $" (head {hd})" : "")}; IoiBench places " +
            "blocks.L.hook_resid_pre, hook_resid_mid, hook_resid_post, hook_attn_out, hook_mlp_out and " +
            "blocks.L.attn.hook_q/k/v/z (one head, or all with reshape_activations: hook_z).");
    }

    private static int K(ConfigReader reader, JsonObject cfg) =>
        cfg["k"] is { } k ? reader.PositiveInteger(k, "k") : reader.PositiveInteger(cfg["activation_fn_kwargs"]?["k"], "k");

    /// <summary>The activation scale: the SAE reads raw activations divided by it (IoiBench's convention).</summary>
    private static float Scale(string directory, string cfgPath, string normalize)
    {
        switch (normalize)
        {
            case "none":
                return 1f;
            case "expected_average_only_in":
            {
                string path = Path.Combine(directory, ScalerFile);
                if (!File.Exists(path))
                    throw new InvalidInputException($"{cfgPath}: field 'normalize_activations' is expected_average_only_in, " +
                                                    $"but {path} (its scaling_factor) is missing.");
                try
                {
                    var factor = JsonNode.Parse(File.ReadAllText(path))?["scaling_factor"];
                    if (factor is JsonValue f && f.TryGetValue(out float value) && value > 0 && float.IsFinite(value)) return 1f / value;
                    throw new InvalidInputException($"{path}: field 'scaling_factor' must be a positive number.");
                }
                catch (JsonException e)
                {
                    throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).", e);
                }
            }
            default:
                throw new InvalidInputException($"{cfgPath}: field 'normalize_activations' is '{normalize}'; IoiBench reads " +
                                                "none and expected_average_only_in (a per-input rescaling has no fixed " +
                                                "inverse for the edited latents an edit decodes).");
        }
    }

    /// <summary>
    /// SAELens without b_dec applied to its input encodes x·W + b; IoiBench's SAEs encode (x − b_dec)·W + b', so
    /// b' = b + b_dec·W (gated: the gate's bias with W_enc, the magnitude's with W_enc scaled by exp(r_mag)).
    /// </summary>
    private static void FoldDecoderBias(SparseAutoencoder sae)
    {
        var p = sae.Parameters;
        bool gated = sae is GatedSae;
        var encoder = p[gated ? "W_gate" : "W_enc"];
        var shift = new double[sae.DSae];
        var bDec = p["b_dec"].Span;
        for (int i = 0; i < sae.DIn; i++)
        {
            var row = encoder.Row(i);
            for (int j = 0; j < sae.DSae; j++) shift[j] += (double)bDec[i] * row[j];
        }
        var bias = p[gated ? "b_gate" : "b_enc"].Span;
        for (int j = 0; j < sae.DSae; j++) bias[j] = (float)(bias[j] + shift[j]);
        if (!gated) return;
        var bMag = p["b_mag"].Span;
        var rMag = p["r_mag"].Span;
        for (int j = 0; j < sae.DSae; j++) bMag[j] = (float)(bMag[j] + shift[j] * Math.Exp(rMag[j]));
    }

    /// <summary>
    /// Top-k that rescales its pre-activations by ‖W_dec[j]‖ and divides the latents by it again before decoding is a
    /// top-k SAE whose encoder column and bias are scaled by the norm and whose decoder row is unit-norm.
    /// </summary>
    private static void FoldDecoderNorms(SparseAutoencoder sae)
    {
        var p = sae.Parameters;
        var (wEnc, wDec) = (p["W_enc"], p["W_dec"]);
        var bEnc = p["b_enc"].Span;
        for (int j = 0; j < sae.DSae; j++)
        {
            var row = wDec.Row(j);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            if (norm == 0) continue;
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
            bEnc[j] *= norm;
            for (int i = 0; i < sae.DIn; i++) wEnc.Row(i)[j] *= norm;
        }
    }
}
