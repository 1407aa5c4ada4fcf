using System.Text.Json.Nodes;
using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>
/// EleutherAI sparsify's SAE folders: <c>cfg.json</c> (<c>d_in</c>, <c>k</c>, <c>activation</c>, ...) and
/// <c>sae.safetensors</c> (<c>encoder.weight</c> [d_sae, d_in], <c>encoder.bias</c>, <c>W_dec</c> [d_sae, d_in],
/// <c>b_dec</c>). Sparsify encodes ReLU((x − b_dec)·encoder.weightᵀ + bias) and keeps the k largest: a top-k SAE with
/// W_enc = encoder.weightᵀ. The folder's name is the hookpoint, a Hugging Face module path (h.L, h.L.attn, h.L.mlp);
/// sparsify trains on the model's raw activations.
/// </summary>
public static class SparsifyFormat
{
    public const string WeightsFile = "sae.safetensors";

    public static ImportedSae Read(string directory, string name, JsonObject cfg, string hash)
    {
        string cfgPath = Path.Combine(directory, SaeFile.ConfigFile), weightsPath = Path.Combine(directory, WeightsFile);
        var reader = new ConfigReader(cfgPath, cfg);
        int dIn = reader.PositiveInteger(cfg["d_in"], "d_in"), k = reader.PositiveInteger(cfg["k"], "k");
        if (cfg["activation"] is JsonValue a && a.TryGetValue(out string? activation) && activation != "topk")
            throw new InvalidInputException($"{cfgPath}: field 'activation' is '{activation}'; IoiBench scores sparsify's " +
                                            "topk SAEs.");
        foreach (string unsupported in new[] { "skip_connection", "transcode" })
            if (cfg[unsupported] is JsonValue f && f.TryGetValue(out bool on) && on)
                throw new InvalidInputException($"{cfgPath}: field '{unsupported}' is true; IoiBench scores plain " +
                                                "sparsify SAEs.");
        var hook = HookNames.FromModulePath(name) ?? throw new InvalidInputException(
            $"{directory}: the folder's name '{name}' is sparsify's hookpoint, and IoiBench places h.L, h.L.attn and " +
            "h.L.mlp (GPT-2's module paths).");

        using var weights = SafeTensorsFile.Open(weightsPath);
        var encoder = weights.ReadFloat32("encoder.weight");
        if (encoder.Rank != 2 || encoder.Shape[1] != dIn)
            throw new InvalidInputException($"{weightsPath}: tensor 'encoder.weight' has shape " +
                                            $"[{string.Join(", ", encoder.Shape)}], expected [d_sae, {dIn}] from {SaeFile.ConfigFile}.");
        int dSae = encoder.Shape[0];
        if (k > dSae) throw new InvalidInputException($"{cfgPath}: field 'k' is {k}, more than the SAE's {dSae} latents.");
        var sae = new TopKSae(dIn, dSae, k, new DeterministicRandom(0));
        var wEnc = sae.Parameters["W_enc"];
        for (int j = 0; j < dSae; j++)
            for (int i = 0; i < dIn; i++) wEnc.Span[i * dSae + j] = encoder.Span[j * dIn + i];
        SaeFile.ReadInto(weights, "encoder.bias", sae.Parameters["b_enc"]);
        SaeFile.ReadInto(weights, "W_dec", sae.Parameters["W_dec"]);
        SaeFile.ReadInto(weights, "b_dec", sae.Parameters["b_dec"]);
        return new ImportedSae(name, directory, "sparsify", sae, 1f, hook, ModelBasis.Raw, hash);
    }
}
