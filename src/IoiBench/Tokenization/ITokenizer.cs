namespace IoiBench.Tokenization;

/// <summary>Text ↔ token ids for one model's vocabulary.</summary>
public interface ITokenizer
{
    int VocabSize { get; }

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>, prepended as BOS to model inputs (50256 in GPT-2).</summary>
    int BosId { get; }

    /// <summary>Encodes text without adding BOS; <c>&lt;|endoftext|&gt;</c> inside text is ordinary text.</summary>
    int[] Encode(string text);

    string Decode(IEnumerable<int> ids);
}

public static class TokenizerExtensions
{
    /// <summary>BOS followed by the text's tokens: the input layout the IOI positions assume.</summary>
    public static int[] EncodeWithBos(this ITokenizer tokenizer, string text) => [tokenizer.BosId, .. tokenizer.Encode(text)];
}
