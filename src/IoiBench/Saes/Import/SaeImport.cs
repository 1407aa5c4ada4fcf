using System.Security.Cryptography;
using System.Text.Json.Nodes;
using IoiBench.Model;
using IoiBench.Sites;

namespace IoiBench.Saes;

/// <summary>
/// Reads SAEs for scoring from folders: a folder with a <c>cfg.json</c> is one SAE, any other is searched for such
/// folders (not inside one: a sweep's checkpoints stay out). The format is the files': IoiBench's own (cfg.json with
/// an <c>ioibench</c> object), SAELens's (<c>sae_weights.safetensors</c>, <see cref="SaeLensFormat"/>) or sparsify's
/// (<c>sae.safetensors</c>, <see cref="SparsifyFormat"/>). Every problem is an error naming the file and the field.
/// </summary>
public static class SaeImport
{
    public static List<ImportedSae> Load(IEnumerable<string> roots) => [.. roots.SelectMany(FoldersUnder).Select(Read)];

    /// <summary>The SAE folders under a root, which must hold at least one.</summary>
    private static List<string> FoldersUnder(string root)
    {
        if (!Directory.Exists(root)) throw new InvalidInputException($"{root}: SAE folder not found.");
        var found = Folders(root).ToList();
        return found.Count > 0 ? found
            : throw new InvalidInputException($"{root}: no SAE in it (an SAE folder holds a {SaeFile.ConfigFile}).");
    }

    /// <summary>The SAE folders under a root, in name order: the root itself when it has a cfg.json.</summary>
    private static IEnumerable<string> Folders(string directory)
    {
        if (File.Exists(Path.Combine(directory, SaeFile.ConfigFile)))
        {
            yield return directory;
            yield break;
        }
        foreach (string child in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
            foreach (string folder in Folders(child)) yield return folder;
    }

    /// <summary>
    /// The basis the SAEs under <paramref name="roots"/> were trained in, from their cfg.json alone (IoiBench's files
    /// record it; SAELens's SAEs read TransformerLens's default basis, sparsify's the raw model's): the basis to score
    /// them in when none is asked for. SAEs of several bases are an error that asks for one.
    /// </summary>
    public static ModelBasis CommonBasis(IEnumerable<string> roots)
    {
        var bases = new Dictionary<ModelBasis, string>();
        foreach (string folder in roots.SelectMany(FoldersUnder))
        {
            var cfg = SaeFile.ReadConfig(folder);
            var basis = cfg["ioibench"] is JsonObject own ? RecordedBasis(Path.Combine(folder, SaeFile.ConfigFile), own)
                : File.Exists(Path.Combine(folder, SparsifyFormat.WeightsFile)) ? ModelBasis.Raw
                : ModelBasis.TransformerLens;
            bases.TryAdd(basis, folder);
        }
        if (bases.Count == 1) return bases.Keys.Single();
        throw new InvalidInputException("the SAEs were trained on activations of different bases (" +
            string.Join("; ", bases.Select(b => $"{b.Key.Name()}: {b.Value}")) + "); choose the one to score them in with --basis.");
    }

    /// <summary>An IoiBench file's ioibench.basis; files from before the field were trained in the processed basis.</summary>
    private static ModelBasis RecordedBasis(string cfgPath, JsonObject ioibench)
    {
        if (ioibench["basis"] is not JsonValue value || !value.TryGetValue(out string? name)) return ModelBasis.Processed;
        return Enum.GetValues<ModelBasis>().Cast<ModelBasis?>().FirstOrDefault(b => b!.Value.Name() == name)
            ?? throw new InvalidInputException($"{cfgPath}: field 'ioibench.basis' is '{name}'; expected " +
                                               $"{string.Join(", ", Enum.GetValues<ModelBasis>().Select(b => b.Name()))}.");
    }

    /// <summary>One SAE folder, in whichever format its files are.</summary>
    public static ImportedSae Read(string directory)
    {
        string name = Path.GetFileName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar));
        var cfg = SaeFile.ReadConfig(directory);
        if (cfg["ioibench"] is JsonObject) return ReadOwn(directory, name);
        if (File.Exists(Path.Combine(directory, SaeLensFormat.WeightsFile)))
            return SaeLensFormat.Read(directory, name, cfg, Hash(directory));
        if (File.Exists(Path.Combine(directory, SparsifyFormat.WeightsFile)))
            return SparsifyFormat.Read(directory, name, cfg, Hash(directory));
        throw new InvalidInputException($"{directory}: neither {SaeLensFormat.WeightsFile} (SAELens) nor " +
                                        $"{SparsifyFormat.WeightsFile} (sparsify) beside {SaeFile.ConfigFile}.");
    }

    /// <summary>An SAE IoiBench wrote: its node, activation scale and basis come from its cfg.json's ioibench object.</summary>
    private static ImportedSae ReadOwn(string directory, string name)
    {
        var (sae, cfg) = SaeFile.Load(directory);
        string cfgPath = Path.Combine(directory, SaeFile.ConfigFile);
        var ioibench = cfg["ioibench"]!.AsObject();
        float scale = ioibench["activation_scale"] is JsonValue s && s.TryGetValue(out float value) && value > 0 && float.IsFinite(value)
            ? value : throw new InvalidInputException($"{cfgPath}: field 'ioibench.activation_scale' must be a positive number.");
        if (ioibench["node"] is not JsonValue n || !n.TryGetValue(out string? text))
            throw new InvalidInputException($"{cfgPath}: field 'ioibench.node' is missing.");
        SiteNode node;
        try { node = SiteNode.Parse(text); }
        catch (InvalidInputException e) { throw new InvalidInputException($"{cfgPath}: field 'ioibench.node': {e.Message}", e); }
        return new ImportedSae(name, directory, "ioibench", sae, scale, node.HeadHook, RecordedBasis(cfgPath, ioibench), Hash(directory))
            { Node = node };
    }

    /// <summary>SHA-256 over the folder's files, in name order (names and contents): what the SAE's scores depend on.</summary>
    public static string Hash(string directory)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (string file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer)) > 0) sha.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Which sites file nodes each SAE reads (its node, or every node at its hook), with its d_in checked against the
    /// node's width; SAEs that read none are returned apart, to be reported. Two SAEs of one name at one node are an error.
    /// </summary>
    public static (List<(ImportedSae Sae, SiteNode Node)> Placed, List<ImportedSae> Unplaced) Place(
        IReadOnlyList<ImportedSae> saes, IReadOnlyList<SiteNode> nodes, Gpt2Config config)
    {
        var placed = new List<(ImportedSae Sae, SiteNode Node)>();
        var unplaced = new List<ImportedSae>();
        foreach (var sae in saes)
        {
            var matches = nodes.Where(sae.Reads).ToList();
            if (matches.Count == 0) unplaced.Add(sae);
            foreach (var node in matches)
            {
                if (sae.Sae.DIn != node.Width(config))
                    throw new InvalidInputException($"{Path.Combine(sae.Directory, SaeFile.ConfigFile)}: field 'd_in' is " +
                                                    $"{sae.Sae.DIn}, but node {node} holds {node.Width(config)} values in this model.");
                if (placed.FirstOrDefault(p => p.Sae.Name == sae.Name && p.Node == node) is { Sae: { } other })
                    throw new InvalidInputException($"{sae.Directory} and {other.Directory} are both named '{sae.Name}' and " +
                                                    $"read node {node}; rename one folder.");
                placed.Add((sae, node));
            }
        }
        return (placed, unplaced);
    }
}
