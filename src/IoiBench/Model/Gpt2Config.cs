using System.Text.Json;

namespace IoiBench.Model;

/// <summary>The fields of a Hugging Face GPT-2 <c>config.json</c> that the runtime needs.</summary>
public sealed record Gpt2Config(int NLayer, int NHead, int DModel, int DMlp, int VocabSize, int NPositions, float LayerNormEpsilon)
{
    public int DHead => DModel / NHead;

    /// <summary>
    /// Floating-point operations of one forward pass with logits at <paramref name="logitRows"/> positions: the products
    /// (fused QKV, attention output, MLP in and out, unembedding) and attention's two, counted 2·m·n·k. A pass started
    /// at <paramref name="fromLayer"/> (<see cref="HookSet.StartAt"/>) runs the layers from there on.
    /// </summary>
    public double ForwardFlops(int batch, int seqLen, int logitRows, int fromLayer = 0)
    {
        double rows = (double)batch * seqLen, d = DModel;
        double perLayer = 2 * rows * d * (3 * d + d + 2 * DMlp) + 2.0 * 2 * batch * NHead * (seqLen * (seqLen + 1) / 2.0) * DHead;
        return (NLayer - fromLayer) * perLayer + 2.0 * logitRows * d * VocabSize;
    }

    /// <summary>The config as a Hugging Face GPT-2 <c>config.json</c> (the fields <see cref="Load"/> reads, and the model type).</summary>
    public string ToJson() =>
        "{\n" + string.Join(",\n", new[]
        {
            "\"model_type\": \"gpt2\"", "\"architectures\": [\"GPT2LMHeadModel\"]", "\"activation_function\": \"gelu_new\"",
            $"\"n_layer\": {NLayer}", $"\"n_head\": {NHead}", $"\"n_embd\": {DModel}", $"\"n_inner\": {DMlp}", $"\"vocab_size\": {VocabSize}",
            $"\"n_positions\": {NPositions}", $"\"n_ctx\": {NPositions}",
            $"\"layer_norm_epsilon\": {LayerNormEpsilon.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}",
        }.Select(field => "  " + field)) + "\n}\n";

    public static Gpt2Config Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found (a model directory needs config.json).");
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).", e); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException($"{path}: expected a JSON object.");

            int Required(string field)
            {
                if (!root.TryGetProperty(field, out var value))
                    throw new InvalidInputException($"{path}: missing field '{field}'.");
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int n) || n <= 0)
                    throw new InvalidInputException($"{path}: field '{field}' must be a positive integer, got {value.GetRawText()}.");
                return n;
            }

            int nLayer = Required("n_layer"), nHead = Required("n_head"), dModel = Required("n_embd");
            int vocab = Required("vocab_size"), positions = Required("n_positions");
            int dMlp = root.TryGetProperty("n_inner", out var inner) && inner.ValueKind != JsonValueKind.Null ? Required("n_inner") : 4 * dModel;
            float eps = 1e-5f;
            if (root.TryGetProperty("layer_norm_epsilon", out var epsilon))
            {
                if (epsilon.ValueKind != JsonValueKind.Number || epsilon.GetDouble() <= 0)
                    throw new InvalidInputException($"{path}: field 'layer_norm_epsilon' must be a positive number.");
                eps = (float)epsilon.GetDouble();
            }
            if (root.TryGetProperty("activation_function", out var activation)
                && activation.GetString() is not ("gelu_new" or "gelu_pytorch_tanh"))
                throw new InvalidInputException($"{path}: field 'activation_function' is '{activation.GetString()}'; only gelu_new (the tanh approximation) is supported.");
            if (dModel % nHead != 0)
                throw new InvalidInputException($"{path}: n_embd ({dModel}) is not divisible by n_head ({nHead}).");
            return new Gpt2Config(nLayer, nHead, dModel, dMlp, vocab, positions, eps);
        }
    }
}
