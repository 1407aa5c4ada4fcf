using System.Text;
using IoiBench.IO;
using IoiBench.Prompts;
using YamlDotNet.RepresentationModel;

namespace IoiBench.Sites;

/// <summary>
/// A model's circuit sites (<c>sites.yaml</c>): head classes, the nodes to build dictionaries and SAEs for, and the
/// cross-sections edited together. Given the model's config, every head must exist in it; errors name the file and line.
/// </summary>
public sealed class SitesFile
{
    public required string Model { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> HeadClasses { get; init; }
    public required IReadOnlyList<SiteNode> Nodes { get; init; }
    public required IReadOnlyList<CrossSection> CrossSections { get; init; }

    public static SitesFile Load(string path, Model.Gpt2Config? model = null)
    {
        var yaml = YamlFile.Load(path);
        void InModel(YamlNode node, int layer, int head, string what)
        {
            if (model is not null && (layer >= model.NLayer || head >= model.NHead))
                throw yaml.Error(node, (head < 0 ? $"{what} is at layer {layer}" : $"{what} is at layer {layer}, head {head}") +
                                       $"; the model has {model.NLayer} layers of {model.NHead} heads.");
        }
        yaml.CheckKeys(yaml.Root, "model", "head_classes", "nodes", "cross_sections");
        var headClasses = new Dictionary<string, IReadOnlyList<string>>();
        if (yaml.Optional(yaml.Root, "head_classes") is { } classesNode)
            foreach (var (key, value) in yaml.Mapping(classesNode, "head_classes").Children)
            {
                string name = yaml.Scalar(key, "head_classes");
                var heads = yaml.Sequence(value, name).Children.Select(h => yaml.Scalar(h, name)).ToList();
                foreach (string h in heads)
                {
                    var head = Parse(yaml, value, () => Behaviour.HeadRef.Parse(h));
                    InModel(value, head.Layer, head.Head, $"head class '{name}': head {h}");
                }
                headClasses[name] = heads;
            }

        var nodes = new List<SiteNode>();
        foreach (var node in yaml.Sequence(yaml.Required(yaml.Root, "nodes"), "nodes"))
        {
            var site = Parse(yaml, node, () => SiteNode.Parse(yaml.Scalar(node, "nodes")));
            if (nodes.Contains(site)) throw yaml.Error(node, $"node {site} is listed twice.");
            InModel(node, site.Layer, site.Head, $"node {site}");
            nodes.Add(site);
        }
        if (nodes.Count == 0) throw yaml.Error(yaml.Required(yaml.Root, "nodes"), "'nodes' is empty; list at least one node.");

        var crossSections = new List<CrossSection>();
        foreach (var entryNode in yaml.Sequence(yaml.Required(yaml.Root, "cross_sections"), "cross_sections"))
        {
            var entry = yaml.Mapping(entryNode, "cross_sections");
            yaml.CheckKeys(entry, "name", "label", "attribute", "nodes");
            string name = yaml.Scalar(yaml.Required(entry, "name"), "name");
            if (crossSections.Any(c => c.Name == name)) throw yaml.Error(entryNode, $"cross-section name '{name}' is used twice.");
            var attributeNode = yaml.Required(entry, "attribute");
            var attribute = yaml.Scalar(attributeNode, "attribute") switch
            {
                "io" => IoiAttribute.Io,
                "s" => IoiAttribute.S,
                "pos" => IoiAttribute.Pos,
                var other => throw yaml.Error(attributeNode, $"cross-section '{name}': attribute '{other}' is not io, s or pos."),
            };
            var members = new List<SiteNode>();
            foreach (var memberNode in yaml.Sequence(yaml.Required(entry, "nodes"), "nodes"))
            {
                var member = Parse(yaml, memberNode, () => SiteNode.Parse(yaml.Scalar(memberNode, "nodes")));
                if (!nodes.Contains(member)) throw yaml.Error(memberNode, $"cross-section '{name}' uses {member}, which is not in 'nodes'.");
                members.Add(member);
            }
            if (members.Count == 0) throw yaml.Error(yaml.Required(entry, "nodes"), $"cross-section '{name}' has no nodes.");
            string label = yaml.Optional(entry, "label") is { } labelNode ? yaml.Scalar(labelNode, "label") : name;
            crossSections.Add(new CrossSection(name, label, attribute, members));
        }

        return new SitesFile
        {
            Model = yaml.Scalar(yaml.Required(yaml.Root, "model"), "model"),
            HeadClasses = headClasses,
            Nodes = nodes,
            CrossSections = crossSections,
        };
    }

    private static T Parse<T>(YamlFile yaml, YamlNode node, Func<T> parse)
    {
        try { return parse(); }
        catch (InvalidInputException e) { throw yaml.Error(node, e.Message); }
    }

    /// <summary>The file's YAML text (written by <c>ioibench circuit</c>).</summary>
    public string ToYaml(string header)
    {
        var text = new StringBuilder();
        foreach (string line in header.Split('\n')) text.AppendLine($"# {line}".TrimEnd());
        text.AppendLine($"model: {Model}");
        text.AppendLine("head_classes:");
        foreach (var (name, heads) in HeadClasses) text.AppendLine($"  {name}: [{string.Join(", ", heads.Select(h => $"\"{h}\""))}]");
        text.AppendLine(Nodes.Count == 0 ? "nodes: []" : "nodes:");
        foreach (var node in Nodes) text.AppendLine($"  - {node}");
        text.AppendLine(CrossSections.Count == 0 ? "cross_sections: []" : "cross_sections:");
        foreach (var cs in CrossSections)
        {
            text.AppendLine($"  - name: \"{cs.Name}\"");
            text.AppendLine($"    label: \"{cs.Label}\"");
            text.AppendLine($"    attribute: {cs.Attribute.ToString().ToLowerInvariant()}");
            text.AppendLine($"    nodes: [{string.Join(", ", cs.Nodes)}]");
        }
        return text.ToString();
    }
}
