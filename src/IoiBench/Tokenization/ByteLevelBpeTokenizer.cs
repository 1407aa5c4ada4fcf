using Microsoft.ML.Tokenizers;

namespace IoiBench.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE from a model directory's <c>vocab.json</c> and <c>merges.txt</c>, through
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> with GPT-2's pre-tokenisation (<see cref="Gpt2Pretokenization"/>).
/// No special tokens: <c>&lt;|endoftext|&gt;</c> inside a text is ordinary text, as in OpenAI's encoder; IoiBench
/// prepends it as BOS by id.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITokenizer
{
    private readonly BpeTokenizer _bpe;

    public int VocabSize { get; }
    public int BosId { get; }

    public ByteLevelBpeTokenizer(string vocabPath, string mergesPath)
    {
        var vocab = VocabularyFile.Read(vocabPath);
        VocabSize = VocabularyFile.InvertToArray(vocabPath, vocab).Length;
        BosId = vocab[VocabularyFile.EndOfText];
        if (!File.Exists(mergesPath)) throw new InvalidInputException($"{mergesPath}: file not found.");
        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(vocab) { Merges = ReadMerges(mergesPath), ByteLevel = true, PreTokenizer = Gpt2Pretokenization.Create() });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{mergesPath}: not a byte-level BPE merges file for {vocabPath} ({e.Message}).", e);
        }
    }

    /// <summary>The merge lines of a <c>merges.txt</c> (without its <c>#version</c> header), each checked to be two symbols.</summary>
    private static List<string> ReadMerges(string path)
    {
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidInputException($"{path}:{lineNumber}: expected two symbols separated by one space, got '{line}'.");
            merges.Add(line);
        }
        return merges;
    }

    public int[] Encode(string text) => [.. _bpe.EncodeToIds(text)];

    public string Decode(IEnumerable<int> ids)
    {
        var list = ids.ToList();
        foreach (int id in list)
            if ((uint)id >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is not in the vocabulary.");
        return _bpe.Decode(list);
    }
}
