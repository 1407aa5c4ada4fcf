using System.Text.RegularExpressions;

namespace IoiBench.Prompts;

/// <summary>
/// An IOI template such as "Then, {A} and {B} went to the {PLACE}. {S} gave a {OBJECT} to": {A} and {B} are the first
/// two names, {S} the second mention of the subject, and the model should continue with the indirect object.
/// </summary>
public sealed partial record IoiTemplate(string Id, string Source, string Text)
{
    private static readonly string[] RequiredSlots = ["{A}", "{B}", "{S}"];

    [GeneratedRegex(@"\{[A-Z]+\}")]
    private static partial Regex SlotPattern();

    /// <summary>Why the text is not a usable template, or null.</summary>
    public static string? Problem(string text)
    {
        foreach (string slot in RequiredSlots)
        {
            int count = Regex.Matches(text, Regex.Escape(slot)).Count;
            if (count != 1) return $"needs {slot} exactly once, found it {count} times";
        }
        var unknown = SlotPattern().Matches(text).Select(m => m.Value).Where(s => s is not ("{A}" or "{B}" or "{S}" or "{PLACE}" or "{OBJECT}")).ToList();
        if (unknown.Count > 0) return $"unknown slot {unknown[0]} (slots: {{A}} {{B}} {{S}} {{PLACE}} {{OBJECT}})";
        if (text.IndexOf("{A}", StringComparison.Ordinal) > text.IndexOf("{S}", StringComparison.Ordinal)
            || text.IndexOf("{B}", StringComparison.Ordinal) > text.IndexOf("{S}", StringComparison.Ordinal))
            return "{S} must come after {A} and {B}";
        foreach (Match slot in SlotPattern().Matches(text))
            if (slot.Index == 0 || text[slot.Index - 1] != ' ')
                return $"{slot.Value} must follow a space (words are single tokens with their leading space)";
        if (text.EndsWith(' ')) return "must not end with a space (the answer token carries its own)";
        return null;
    }

    public string Fill(string a, string b, string s, string place, string obj) =>
        Text.Replace("{A}", a).Replace("{B}", b).Replace("{S}", s).Replace("{PLACE}", place).Replace("{OBJECT}", obj);
}
