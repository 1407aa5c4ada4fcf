using System.Text;

namespace IoiBench.Tokenization;

/// <summary>
/// GPT-2's pre-tokenisation, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>,
/// written as a scanner over Unicode code points (so letters outside the BMP count as letters, as in Python).
/// </summary>
public static class Gpt2PreTokenizer
{
    private enum CharClass { Letter, Number, Space, Other }

    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            int end = MatchContraction(text, i);
            if (end < 0) end = MatchRun(text, i);
            pieces.Add(text[i..end]);
            i = end;
        }
        return pieces;
    }

    private static int MatchContraction(string text, int i)
    {
        if (text[i] != '\'' || i + 1 >= text.Length) return -1;
        char next = text[i + 1];
        if (next is 's' or 't' or 'm' or 'd') return i + 2;
        if (i + 2 < text.Length)
        {
            char after = text[i + 2];
            if ((next == 'r' && after == 'e') || (next == 'v' && after == 'e') || (next == 'l' && after == 'l')) return i + 3;
        }
        return -1;
    }

    private static int MatchRun(string text, int i)
    {
        // An optional single ASCII space may lead a letter, number or "other" run.
        int start = text[i] == ' ' && i + 1 < text.Length && Classify(text, i + 1) != CharClass.Space ? i + 1 : i;
        var kind = Classify(text, start);
        if (kind != CharClass.Space)
            return ConsumeWhile(text, start, kind);

        int end = ConsumeWhile(text, i, CharClass.Space);
        if (end == text.Length) return end;
        // \s+(?!\S): leave the last whitespace character (always one UTF-16 unit) to lead the next piece,
        // unless it is the only one.
        return end - 1 > i ? end - 1 : end;
    }

    private static int ConsumeWhile(string text, int i, CharClass kind)
    {
        while (i < text.Length && Classify(text, i) == kind) i += RuneAt(text, i).Utf16SequenceLength;
        return i;
    }

    private static Rune RuneAt(string text, int i) =>
        Rune.TryGetRuneAt(text, i, out var rune) ? rune : Rune.ReplacementChar;

    private static CharClass Classify(string text, int i)
    {
        if (!Rune.TryGetRuneAt(text, i, out var rune)) return CharClass.Other; // a lone surrogate
        if (Rune.IsLetter(rune)) return CharClass.Letter;
        if (Rune.IsNumber(rune)) return CharClass.Number;
        if (Rune.IsWhiteSpace(rune)) return CharClass.Space;
        return CharClass.Other;
    }
}
