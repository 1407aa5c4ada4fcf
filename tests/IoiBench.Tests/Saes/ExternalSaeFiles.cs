using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IoiBench.Tests.Saes;

/// <summary>
/// SAE folders laid out as SAELens 6 and sparsify write them: SAELens's cfg.json is its config's <c>to_dict()</c>
/// (d_in, d_sae, dtype, device, apply_b_dec_to_input, normalize_activations, reshape_activations, metadata with
/// hook_name and hook_head_index, architecture; top-k adds k and rescale_acts_by_decoder_norm) beside
/// sae_weights.safetensors; sparsify's cfg.json (activation, expansion_factor, normalize_decoder, num_latents, k,
/// multi_topk, skip_connection, transcode, d_in) beside sae.safetensors, in a folder named after the hookpoint.
/// Tensors are written in F32, F16 or BF16 by safetensors's layout (an 8-byte header length, the JSON header, the data).
/// </summary>
internal static class ExternalSaeFiles
{
    public sealed record Tensor(int[] Shape, float[] Values);

    public static string SaeLens(string directory, string architecture, string hookName, int dIn, int dSae,
        IReadOnlyDictionary<string, Tensor> tensors, string dtype = "F32", int? hookHeadIndex = null,
        Action<JsonObject>? edit = null)
    {
        Directory.CreateDirectory(directory);
        var cfg = new JsonObject
        {
            ["d_in"] = dIn,
            ["d_sae"] = dSae,
            ["dtype"] = dtype switch { "F16" => "float16", "BF16" => "bfloat16", _ => "float32" },
            ["device"] = "cpu",
            ["apply_b_dec_to_input"] = true,
            ["normalize_activations"] = "none",
            ["reshape_activations"] = "none",
            ["metadata"] = new JsonObject
            {
                ["sae_lens_version"] = "6.18.0",
                ["sae_lens_training_version"] = "6.18.0",
                ["dataset_path"] = "apollo-research/Skylion007-openwebtext-tokenizer-gpt2",
                ["hook_name"] = hookName,
                ["model_name"] = "gpt2",
                ["model_class_name"] = "HookedTransformer",
                ["hook_head_index"] = hookHeadIndex,
                ["context_size"] = 128,
                ["seqpos_slice"] = new JsonArray((JsonNode?)null),
                ["model_from_pretrained_kwargs"] = new JsonObject(),
                ["prepend_bos"] = true,
                ["exclude_special_tokens"] = false,
                ["sequence_separator_token"] = "bos",
                ["disable_concat_sequences"] = false,
            },
            ["architecture"] = architecture,
        };
        if (architecture == "topk")
        {
            cfg["k"] = 1;
            cfg["rescale_acts_by_decoder_norm"] = false;
        }
        edit?.Invoke(cfg);
        File.WriteAllText(Path.Combine(directory, "cfg.json"), cfg.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        WriteSafeTensors(Path.Combine(directory, "sae_weights.safetensors"), tensors, dtype);
        return directory;
    }

    public static string Sparsify(string directory, int dIn, int k, IReadOnlyDictionary<string, Tensor> tensors)
    {
        Directory.CreateDirectory(directory);
        var cfg = new JsonObject
        {
            ["activation"] = "topk",
            ["expansion_factor"] = 32,
            ["normalize_decoder"] = true,
            ["num_latents"] = tensors["encoder.weight"].Shape[0],
            ["k"] = k,
            ["multi_topk"] = false,
            ["skip_connection"] = false,
            ["transcode"] = false,
            ["d_in"] = dIn,
        };
        File.WriteAllText(Path.Combine(directory, "cfg.json"), cfg.ToJsonString());
        WriteSafeTensors(Path.Combine(directory, "sae.safetensors"), tensors, "F32");
        return directory;
    }

    /// <summary>Tensors in name order, packed one after another; F16 and BF16 round to nearest even.</summary>
    public static void WriteSafeTensors(string path, IReadOnlyDictionary<string, Tensor> tensors, string dtype)
    {
        int size = dtype == "F32" ? 4 : 2;
        var header = new JsonObject();
        var data = new MemoryStream();
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            long begin = data.Length;
            foreach (float v in tensor.Values)
            {
                byte[] bytes = dtype switch
                {
                    "F32" => BitConverter.GetBytes(v),
                    "F16" => BitConverter.GetBytes((Half)v),
                    "BF16" => BitConverter.GetBytes(BFloat16(v)),
                    _ => throw new ArgumentException(dtype),
                };
                data.Write(bytes);
            }
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray([.. tensor.Shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(begin, begin + (long)tensor.Values.Length * size),
            };
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
    }

    private static ushort BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>[I, −I] (d × 2d): latent i reads +x_i, latent d+i reads −x_i.</summary>
    public static Tensor PlusMinusEncoder(int d)
    {
        var w = new float[d * 2 * d];
        for (int i = 0; i < d; i++)
        {
            w[i * 2 * d + i] = 1;
            w[i * 2 * d + d + i] = -1;
        }
        return new Tensor([d, 2 * d], w);
    }

    /// <summary>[I; −I] (2d × d): with ReLU latents, x = ReLU(x) − ReLU(−x) exactly.</summary>
    public static Tensor PlusMinusDecoder(int d)
    {
        var w = new float[2 * d * d];
        for (int i = 0; i < d; i++)
        {
            w[i * d + i] = 1;
            w[(d + i) * d + i] = -1;
        }
        return new Tensor([2 * d, d], w);
    }

    public static Tensor Filled(float value, params int[] shape) => new(shape, Enumerable.Repeat(value, shape.Aggregate(1, (a, b) => a * b)).ToArray());
}
