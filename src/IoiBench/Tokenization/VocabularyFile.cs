using System.Text.Json;

namespace IoiBench.Tokenization;

/// <summary>Reads a Hugging Face <c>vocab.json</c> (token string → id).</summary>
internal static class VocabularyFile
{
    public const string EndOfText = "<|endoftext|>";

    public static Dictionary<string, int> Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException($"{path}: expected a JSON object mapping tokens to ids.");
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                    throw new InvalidInputException($"{path}: token '{entry.Name}' has id {entry.Value.GetRawText()}, expected a non-negative integer.");
                vocab[entry.Name] = id;
            }
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).", e);
        }
        if (!vocab.ContainsKey(EndOfText))
            throw new InvalidInputException($"{path}: the vocabulary has no '{EndOfText}' token (needed as BOS).");
        return vocab;
    }

    public static string[] InvertToArray(string path, Dictionary<string, int> vocab)
    {
        int size = vocab.Values.Max() + 1;
        var tokens = new string[size];
        foreach (var (token, id) in vocab)
        {
            if (tokens[id] is not null)
                throw new InvalidInputException($"{path}: id {id} is used by both '{tokens[id]}' and '{token}'.");
            tokens[id] = token;
        }
        return tokens;
    }
}
