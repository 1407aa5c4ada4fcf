using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace IoiBench.IO;

/// <summary>
/// Reads a YAML file into YamlDotNet's node tree and offers typed accessors whose errors name the file, the line and
/// the key. Mapping keys are checked against the keys a caller knows, so a misspelt key is an error, not a default.
/// </summary>
public sealed class YamlFile
{
    public string Path { get; }
    public YamlMappingNode Root { get; }

    private YamlFile(string path, YamlMappingNode root)
    {
        Path = path;
        Root = root;
    }

    public static YamlFile Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InvalidInputException($"{path}:{e.Start.Line}: invalid YAML ({e.InnerException?.Message ?? e.Message}).", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new InvalidInputException($"{path}: expected a YAML mapping at the top level.");
        return new YamlFile(path, root);
    }

    public InvalidInputException Error(YamlNode node, string message) => new($"{Path}:{node.Start.Line}: {message}");

    /// <summary>Rejects keys of <paramref name="mapping"/> not in <paramref name="known"/>.</summary>
    public void CheckKeys(YamlMappingNode mapping, params string[] known)
    {
        foreach (var key in mapping.Children.Keys)
            if (key is not YamlScalarNode { Value: { } name } || !known.Contains(name))
                throw Error(key, $"unknown key '{(key as YamlScalarNode)?.Value ?? key.ToString()}' (expected one of: {string.Join(", ", known)}).");
    }

    public YamlNode Required(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : throw Error(mapping, $"missing key '{key}'.");

    public YamlNode? Optional(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public string Scalar(YamlNode node, string key) =>
        node is YamlScalarNode { Value: { Length: > 0 } value } ? value : throw Error(node, $"'{key}' must be a non-empty string.");

    public YamlSequenceNode Sequence(YamlNode node, string key) =>
        node as YamlSequenceNode ?? throw Error(node, $"'{key}' must be a list.");

    public YamlMappingNode Mapping(YamlNode node, string key) =>
        node as YamlMappingNode ?? throw Error(node, $"'{key}' must be a mapping.");

    public List<string> StringList(YamlMappingNode mapping, string key) =>
        Sequence(Required(mapping, key), key).Children.Select(item => Scalar(item, key)).ToList();
}
