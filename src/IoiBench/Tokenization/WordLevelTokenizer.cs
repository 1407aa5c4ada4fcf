namespace IoiBench.Tokenization;

/// <summary>
/// A word-level vocabulary for small models: text is split with GPT-2's pre-tokenisation and every piece
/// (leading space included, e.g. " Mary") must be a vocabulary entry, or <c>&lt;unk&gt;</c> when the vocabulary has one.
/// </summary>
public sealed class WordLevelTokenizer : ITokenizer
{
    public const string Unknown = "<unk>";

    private readonly string _path;
    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _tokens;
    private readonly int? _unknownId;

    public int VocabSize => _tokens.Length;
    public int BosId { get; }

    public WordLevelTokenizer(string vocabPath)
    {
        _path = vocabPath;
        _vocab = VocabularyFile.Read(vocabPath);
        _tokens = VocabularyFile.InvertToArray(vocabPath, _vocab);
        BosId = _vocab[VocabularyFile.EndOfText];
        _unknownId = _vocab.TryGetValue(Unknown, out int unk) ? unk : null;
    }

    public int[] Encode(string text) =>
        Gpt2Pretokenization.Split(text).Select(piece => _vocab.TryGetValue(piece, out int id)
            ? id
            : _unknownId ?? throw new InvalidInputException($"'{piece}' is not in the word-level vocabulary {_path}.")).ToArray();

    public string Decode(IEnumerable<int> ids) =>
        string.Concat(ids.Select(id => (uint)id < (uint)_tokens.Length && _tokens[id] is not null
            ? _tokens[id]
            : throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is not in the vocabulary.")));
}
