namespace IoiBench.Prompts;

/// <summary>The attributes a counterfactual changes: the indirect object's name, the subject's name, or their order.</summary>
public enum IoiAttribute { Io, S, Pos }

/// <summary>The benchmark's three disjoint prompt sets.</summary>
public enum DatasetSplit { Train, Validation, Test }

/// <summary>
/// One IOI prompt: a template filled with IO and S names (IO first in the ABB pattern, second in BAB), a place and
/// an object. The expected next token is " IO".
/// </summary>
public sealed record IoiPrompt(IoiTemplate Template, int TemplateIndex, bool IoFirst, string Io, string S, string Place, string Object)
{
    public string Text => Template.Fill(IoFirst ? Io : S, IoFirst ? S : Io, S, Place, Object);
    public string Pattern => IoFirst ? "ABB" : "BAB";

    /// <summary>The value of an attribute (Pos: 0 when IO comes first, 1 otherwise), as the dictionaries index it.</summary>
    public string ValueOf(IoiAttribute attribute) => attribute switch
    {
        IoiAttribute.Io => Io,
        IoiAttribute.S => S,
        _ => IoFirst ? "0" : "1",
    };
}
