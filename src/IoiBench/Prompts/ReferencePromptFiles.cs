using System.Text.Json;

namespace IoiBench.Prompts;

/// <summary>
/// The reference repository's prompt data (its <c>data/</c> folder): <c>templates.json</c> (a list of templates with
/// <c>{name_A}</c>, <c>{name_B}</c>, <c>{name_C}</c>, <c>{place}</c>, <c>{object}</c>), <c>names.json</c>,
/// <c>objects.json</c> and <c>places.json</c> (lists of words without their leading space) and <c>prefixes.json</c>,
/// whose third entry ("Then, ") the reference puts before every template. Read as they are, the names in their order,
/// they give the reference's distribution: all names in train, the first half in validation and test, and the two
/// remaining quarters as the counterfactual IO and S names (docs/reproducing.md).
/// </summary>
public static class ReferencePromptFiles
{
    private const string Templates = "templates.json", Names = "names.json", Objects = "objects.json", Places = "places.json", Prefixes = "prefixes.json";

    /// <summary>The prefix the reference uses: the third entry of prefixes.json.</summary>
    private const int PrefixIndex = 2;

    public static bool IsIn(string directory) => File.Exists(Path.Combine(directory, Templates)) && File.Exists(Path.Combine(directory, Names));

    public static PromptLibrary Load(string directory)
    {
        string File(string name) => Path.Combine(directory, name);
        var prefixes = Strings(File(Prefixes));
        if (prefixes.Count <= PrefixIndex) throw new InvalidInputException($"{File(Prefixes)}: expected at least {PrefixIndex + 1} prefixes, found {prefixes.Count}.");
        string prefix = prefixes[PrefixIndex];
        var texts = Strings(File(Templates));
        if (texts.Count == 0) throw new InvalidInputException($"{File(Templates)}: no templates.");
        var templates = texts.Select((text, i) =>
        {
            var template = new IoiTemplate($"reference-{i + 1}", "reference", prefix + text.Replace("{name_A}", "{A}").Replace("{name_B}", "{B}")
                .Replace("{name_C}", "{S}").Replace("{place}", "{PLACE}").Replace("{object}", "{OBJECT}"));
            return IoiTemplate.Problem(template.Text) is { } problem
                ? throw new InvalidInputException($"{File(Templates)}: template {i + 1} {problem}.")
                : template;
        }).ToList();
        return PromptLibrary.Create(directory, templates,
            PromptLibrary.CheckWords(File(Names), "names", Strings(File(Names)), PromptLibrary.MinimumNames),
            PromptLibrary.CheckWords(File(Objects), "objects", Strings(File(Objects)), 1),
            PromptLibrary.CheckWords(File(Places), "places", Strings(File(Places)), 1),
            [File(Templates), File(Names), File(Objects), File(Places), File(Prefixes)]);
    }

    /// <summary>A JSON file holding a list of strings.</summary>
    private static List<string> Strings(string path)
    {
        if (!System.IO.File.Exists(path)) throw new InvalidInputException($"{path}: file not found (the reference's data folder has {Templates}, {Names}, {Objects}, {Places} and {Prefixes}).");
        try
        {
            using var document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidInputException($"{path}: expected a JSON list of strings.");
            return [.. document.RootElement.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String ? e.GetString()!
                : throw new InvalidInputException($"{path}: entry {i + 1} is not a string."))];
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }
}
