using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace IoiBench.Tokenization;

/// <summary>
/// GPT-2's pre-tokenisation, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, as a
/// Microsoft.ML.Tokenizers pre-tokenizer. .NET matches the pattern over UTF-16 code units, so a letter outside the Basic
/// Multilingual Plane (e.g. 𝐀) is not a letter to it, as in the library's own GPT-2 encoding: such text splits
/// differently from OpenAI's encoder (no prompt or word list of IoiBench contains one).
/// </summary>
public static partial class Gpt2Pretokenization
{
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Pattern();

    /// <summary>The pre-tokenizer; <c>&lt;|endoftext|&gt;</c> is ordinary text to it.</summary>
    public static PreTokenizer Create() => new RegexPreTokenizer(Pattern(), specialTokens: null);

    /// <summary>The pieces of <paramref name="text"/>, in order.</summary>
    public static List<string> Split(string text) =>
        [.. Create().PreTokenize(text).Select(piece => text.Substring(piece.Offset, piece.Length))];
}
