using IoiBench.Tokenization;

namespace IoiBench.Prompts;

/// <summary>The token positions an IOI site can be read at.</summary>
public enum SemanticPosition { Io, S1, S1Plus1, S2, End }

public static class SemanticPositionNames
{
    public static string Name(this SemanticPosition position) => position switch
    {
        SemanticPosition.Io => "io",
        SemanticPosition.S1 => "s1",
        SemanticPosition.S1Plus1 => "s1+1",
        SemanticPosition.S2 => "s2",
        _ => "end",
    };

    public static SemanticPosition Parse(string name) => name switch
    {
        "io" => SemanticPosition.Io,
        "s1" => SemanticPosition.S1,
        "s1+1" => SemanticPosition.S1Plus1,
        "s2" => SemanticPosition.S2,
        "end" => SemanticPosition.End,
        _ => throw new InvalidInputException($"unknown position '{name}' (io, s1, s1+1, s2, end)."),
    };
}

/// <summary>Token indices (BOS is 0) of a prompt's semantic positions.</summary>
public sealed record SemanticPositions(int Io, int S1, int S1Plus1, int S2, int End)
{
    public int this[SemanticPosition position] => position switch
    {
        SemanticPosition.Io => Io,
        SemanticPosition.S1 => S1,
        SemanticPosition.S1Plus1 => S1Plus1,
        SemanticPosition.S2 => S2,
        _ => End,
    };
}

/// <summary>A prompt as the model sees it: BOS, then the text's tokens; the answer tokens are " IO" and " S".</summary>
public sealed record TokenizedPrompt(IoiPrompt Prompt, int[] Ids, SemanticPositions Positions, int IoToken, int SToken)
{
    public static TokenizedPrompt Create(IoiPrompt prompt, ITokenizer tokenizer)
    {
        int[] ids = tokenizer.EncodeWithBos(prompt.Text);
        int ioToken = SingleToken(tokenizer, prompt.Io), sToken = SingleToken(tokenizer, prompt.S);
        int io = Array.IndexOf(ids, ioToken);
        int s1 = Array.IndexOf(ids, sToken);
        int s2 = s1 < 0 ? -1 : Array.IndexOf(ids, sToken, s1 + 1);
        if (io < 0 || s1 < 0 || s2 < 0 || Array.IndexOf(ids, ioToken, io + 1) >= 0 || Array.IndexOf(ids, sToken, s2 + 1) >= 0)
            throw new InvalidInputException($"prompt \"{prompt.Text}\" does not contain ' {prompt.Io}' once and ' {prompt.S}' twice as tokens.");
        return new TokenizedPrompt(prompt, ids, new SemanticPositions(io, s1, s1 + 1, s2, ids.Length - 1), ioToken, sToken);
    }

    private static int SingleToken(ITokenizer tokenizer, string word)
    {
        int[] ids = tokenizer.Encode(" " + word);
        return ids.Length == 1 ? ids[0] : throw new InvalidInputException($"' {word}' is {ids.Length} tokens for this tokenizer; IOI names must be one.");
    }
}

/// <summary>A clean prompt and its three counterfactuals, each changing one attribute.</summary>
public sealed record IoiExample(TokenizedPrompt Clean, TokenizedPrompt CounterfactualIo, TokenizedPrompt CounterfactualS, TokenizedPrompt CounterfactualPos)
{
    public TokenizedPrompt Counterfactual(IoiAttribute attribute) => attribute switch
    {
        IoiAttribute.Io => CounterfactualIo,
        IoiAttribute.S => CounterfactualS,
        _ => CounterfactualPos,
    };
}
