using System.Security.Cryptography;
using IoiBench.IO;
using IoiBench.Tokenization;

namespace IoiBench.Prompts;

/// <summary>
/// The templates and word lists of a prompts directory (<c>templates.yaml</c>, <c>names.yaml</c>, <c>objects.yaml</c>,
/// <c>places.yaml</c>). Words are stored without their leading space; <see cref="CheckSingleTokens"/> verifies that
/// each one, with the space, is a single token of a model's tokenizer.
/// </summary>
public sealed class PromptLibrary
{
    public const string TemplatesFile = "templates.yaml", NamesFile = "names.yaml", ObjectsFile = "objects.yaml", PlacesFile = "places.yaml";

    /// <summary>
    /// Names are split into a base half and two counterfactual quarters; each quarter needs three names so that one
    /// always differs from both names of a prompt.
    /// </summary>
    public const int MinimumNames = 12;

    public string Directory { get; }
    public IReadOnlyList<IoiTemplate> Templates { get; }
    public IReadOnlyList<string> Names { get; }
    public IReadOnlyList<string> Objects { get; }
    public IReadOnlyList<string> Places { get; }
    /// <summary>SHA-256 of the four files' bytes: identifies the prompt distribution in cache keys.</summary>
    public string ContentHash { get; }

    private PromptLibrary(string directory, List<IoiTemplate> templates, List<string> names, List<string> objects, List<string> places, string hash)
    {
        Directory = directory;
        Templates = templates;
        Names = names;
        Objects = objects;
        Places = places;
        ContentHash = hash;
    }

    /// <summary>
    /// A prompts directory: IoiBench's YAML files, or the reference repository's JSON data folder
    /// (<see cref="ReferencePromptFiles"/>), told apart by which files are there.
    /// </summary>
    public static PromptLibrary Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new InvalidInputException($"{directory}: prompts directory not found.");
        if (ReferencePromptFiles.IsIn(directory) && !File.Exists(System.IO.Path.Combine(directory, TemplatesFile))) return ReferencePromptFiles.Load(directory);
        string Path(string file) => System.IO.Path.Combine(directory, file);

        var templatesYaml = YamlFile.Load(Path(TemplatesFile));
        templatesYaml.CheckKeys(templatesYaml.Root, "templates");
        var templates = new List<IoiTemplate>();
        foreach (var node in templatesYaml.Sequence(templatesYaml.Required(templatesYaml.Root, "templates"), "templates"))
        {
            var entry = templatesYaml.Mapping(node, "templates");
            templatesYaml.CheckKeys(entry, "id", "source", "text");
            var template = new IoiTemplate(
                templatesYaml.Scalar(templatesYaml.Required(entry, "id"), "id"),
                templatesYaml.Scalar(templatesYaml.Required(entry, "source"), "source"),
                templatesYaml.Scalar(templatesYaml.Required(entry, "text"), "text"));
            if (IoiTemplate.Problem(template.Text) is { } problem) throw templatesYaml.Error(entry, $"template '{template.Id}' {problem}.");
            if (templates.Any(t => t.Id == template.Id)) throw templatesYaml.Error(entry, $"duplicate template id '{template.Id}'.");
            templates.Add(template);
        }
        if (templates.Count == 0) throw new InvalidInputException($"{Path(TemplatesFile)}: no templates.");

        List<string> Words(string file, string key, int minimum)
        {
            var yaml = YamlFile.Load(Path(file));
            yaml.CheckKeys(yaml.Root, key);
            return CheckWords(Path(file), key, yaml.StringList(yaml.Root, key), minimum);
        }

        return Create(directory, templates, Words(NamesFile, "names", MinimumNames), Words(ObjectsFile, "objects", 1), Words(PlacesFile, "places", 1),
            [.. new[] { TemplatesFile, NamesFile, ObjectsFile, PlacesFile }.Select(Path)]);
    }

    /// <summary>A word list checked: no duplicates, at least <paramref name="minimum"/> words, none with whitespace; errors name the file.</summary>
    internal static List<string> CheckWords(string path, string key, List<string> words, int minimum)
    {
        var duplicate = words.GroupBy(w => w).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidInputException($"{path}: '{duplicate.Key}' appears more than once in '{key}'.");
        if (words.Count < minimum) throw new InvalidInputException($"{path}: '{key}' needs at least {minimum} entries, found {words.Count}.");
        var spaced = words.FirstOrDefault(w => w.Any(char.IsWhiteSpace));
        if (spaced is not null) throw new InvalidInputException($"{path}: '{spaced}' in '{key}' contains whitespace (write words without their leading space).");
        return words;
    }

    /// <summary>A library from its parts; <paramref name="files"/> (read in order) identify it in cache keys.</summary>
    internal static PromptLibrary Create(string directory, List<IoiTemplate> templates, List<string> names, List<string> objects, List<string> places,
        IReadOnlyList<string> files)
    {
        using var sha = SHA256.Create();
        foreach (string file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return new PromptLibrary(directory, templates, names, objects, places, Convert.ToHexStringLower(sha.Hash!));
    }

    /// <summary>
    /// Checks that every name, object and place is one token (with its leading space) for <paramref name="tokenizer"/>,
    /// and that every template tokenizes; the error names the word, its list and its file.
    /// </summary>
    /// <summary>
    /// Checks that every word is one token with its leading space and, when <paramref name="contextLength"/> is given,
    /// that every template's prompts (BOS included) fit the model's context; errors name the file and the word or template.
    /// </summary>
    public void CheckSingleTokens(ITokenizer tokenizer, int? contextLength = null)
    {
        foreach (var (words, key, file) in new[] { (Names, "names", NamesFile), (Objects, "objects", ObjectsFile), (Places, "places", PlacesFile) })
            foreach (string word in words)
            {
                int[] ids;
                try { ids = tokenizer.Encode(" " + word); }
                catch (InvalidInputException) { ids = []; }
                if (ids.Length != 1)
                    throw new InvalidInputException($"{System.IO.Path.Combine(Directory, file)}: '{word}' in '{key}' is not a single token with its leading space " +
                                                    $"for this model's tokenizer ({(ids.Length == 0 ? "not in the vocabulary" : $"{ids.Length} tokens: {string.Join(' ', ids)}")}).");
            }
        foreach (var template in Templates)
        {
            int tokens;
            try { tokens = tokenizer.EncodeWithBos(template.Fill(Names[0], Names[1], Names[1], Places[0], Objects[0])).Length; }
            catch (InvalidInputException e)
            {
                throw new InvalidInputException($"{System.IO.Path.Combine(Directory, TemplatesFile)}: template '{template.Id}' cannot be tokenized: {e.Message}", e);
            }
            // Every word is one token, so every prompt of a template has its length.
            if (tokens > contextLength)
                throw new InvalidInputException($"{System.IO.Path.Combine(Directory, TemplatesFile)}: template '{template.Id}' makes prompts of {tokens} tokens " +
                                                $"with BOS; the model takes at most {contextLength}.");
        }
    }

    /// <summary>The three slices of the name list: base (first half), counterfactual IO and counterfactual S (a quarter each).</summary>
    public (IReadOnlyList<string> Base, IReadOnlyList<string> CounterfactualIo, IReadOnlyList<string> CounterfactualS) NameSlices()
    {
        int half = Names.Count / 2, quarter = Names.Count / 4;
        return (Names.Take(half).ToList(), Names.Skip(half).Take(quarter).ToList(), Names.Skip(half + quarter).Take(quarter).ToList());
    }
}
