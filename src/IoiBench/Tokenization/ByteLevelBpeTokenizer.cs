using System.Collections.Concurrent;
using System.Text;

namespace IoiBench.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE: pre-tokenise, map each UTF-8 byte to a printable character, then apply the
/// ranked merges from <c>merges.txt</c> and look the symbols up in <c>vocab.json</c>.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITokenizer
{
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _tokens;
    private readonly Dictionary<(string, string), int> _mergeRanks;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, (byte)b)).ToDictionary(p => p.c, p => p.Item2);

    public int VocabSize => _tokens.Length;
    public int BosId { get; }

    public ByteLevelBpeTokenizer(string vocabPath, string mergesPath)
    {
        _vocab = VocabularyFile.Read(vocabPath);
        _tokens = VocabularyFile.InvertToArray(vocabPath, _vocab);
        _mergeRanks = ReadMerges(mergesPath);
        BosId = _vocab[VocabularyFile.EndOfText];
    }

    private static Dictionary<(string, string), int> ReadMerges(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        var ranks = new Dictionary<(string, string), int>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidInputException($"{path}:{lineNumber}: expected two symbols separated by one space, got '{line}'.");
            ranks.TryAdd((parts[0], parts[1]), ranks.Count);
        }
        return ranks;
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 upwards.</summary>
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

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (string piece in Gpt2PreTokenizer.Split(text))
            ids.AddRange(_cache.GetOrAdd(piece, EncodePiece));
        return ids.ToArray();
    }

    private int[] EncodePiece(string piece)
    {
        var symbols = Encoding.UTF8.GetBytes(piece).Select(b => ByteToChar[b].ToString()).ToList();
        while (symbols.Count > 1)
        {
            int bestRank = int.MaxValue;
            (string, string) best = default;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (symbols[i], symbols[i + 1]);
                }
            if (bestRank == int.MaxValue) break;

            var merged = new List<string>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                {
                    merged.Add(best.Item1 + best.Item2);
                    i++;
                }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        return symbols.Select(s => _vocab.TryGetValue(s, out int id)
            ? id
            : throw new InvalidInputException($"BPE produced the symbol '{s}', which vocab.json does not contain; are vocab.json and merges.txt from the same model?")).ToArray();
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length || _tokens[id] is null) throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is not in the vocabulary.");
            foreach (char c in _tokens[id]) bytes.Add(CharToByte[c]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
