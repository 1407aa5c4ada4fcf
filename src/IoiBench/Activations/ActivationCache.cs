using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IoiBench.IO;
using IoiBench.Model;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;

namespace IoiBench.Activations;

/// <summary>
/// Site activations on disk, keyed by the model's content hash, the dataset's hash, the nodes' hash, the split and the
/// basis: <c>KEY.safetensors</c> holds the tensors and <c>KEY.json</c> the manifest, written last, so an entry with a
/// manifest is complete. An unreadable or inconsistent entry is rebuilt with a warning.
/// </summary>
public sealed class ActivationCache(string directory)
{
    private const int Schema = 1;

    public string Directory { get; } = directory;

    /// <summary>The default location: $IOIBENCH_CACHE, else $XDG_CACHE_HOME/ioibench, else ~/.cache/ioibench.</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("IOIBENCH_CACHE") is { Length: > 0 } configured ? configured
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "ioibench");

    public sealed record Result(SiteActivations Activations, bool Hit, string Path);

    /// <summary>
    /// The split's site activations from the cache, or extracted and cached; <paramref name="transformer"/> runs the
    /// extraction (default: <paramref name="model"/> on the CPU; a GPU's copy agrees within float32 rounding, so the
    /// key does not depend on it).
    /// </summary>
    public Result GetOrExtract(LoadedModel model, IoiDataset dataset, DatasetSplit split, IReadOnlyList<SiteNode> nodes, IProgress<ProgressUpdate>? progress = null,
        ITransformer? transformer = null)
    {
        var examples = dataset.Split(split);
        var manifest = new Manifest(Schema, model.ContentHash, dataset.Hash, SitesHash(nodes),
            split.ToString().ToLowerInvariant(), model.Model.Weights.Basis.Name(), examples.Count, model.Model.Config.DHead,
            nodes.Select(n => n.ToString()).ToArray());
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{manifest.ModelHash}|{manifest.PromptsHash}|{manifest.SitesHash}|{manifest.Split}|{manifest.Basis}")))[..24];
        string tensorsPath = Path.Combine(Directory, key + ".safetensors"), manifestPath = Path.Combine(Directory, key + ".json");

        if (File.Exists(manifestPath))
        {
            try { return new Result(Read(manifest, manifestPath, tensorsPath, nodes, model.Model.Config), Hit: true, tensorsPath); }
            catch (Exception e) when (e is InvalidInputException or JsonException or IOException)
            {
                Warnings.Emit($"activation cache entry {tensorsPath} is unusable ({e.Message}); rebuilding it.");
            }
        }

        AtomicFile.RemoveOrphans(Directory, recursive: false);
        var activations = ActivationExtractor.Extract(transformer ?? model.Model, examples, nodes, progress, $"extracting activations ({manifest.Split})");
        System.IO.Directory.CreateDirectory(Directory);
        File.Delete(manifestPath);
        SafeTensorsWriter.Write(tensorsPath, activations.Tensors);
        AtomicFile.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, ManifestJson.Default.Manifest));
        return new Result(activations, Hit: false, tensorsPath);
    }

    private static SiteActivations Read(Manifest expected, string manifestPath, string tensorsPath, IReadOnlyList<SiteNode> nodes,
        Model.Gpt2Config config)
    {
        var stored = JsonSerializer.Deserialize(File.ReadAllText(manifestPath), ManifestJson.Default.Manifest)
                     ?? throw new InvalidInputException("empty manifest");
        if (stored with { Nodes = expected.Nodes } != expected || !stored.Nodes.SequenceEqual(expected.Nodes))
            throw new InvalidInputException("the manifest does not match this model, dataset and sites");
        using var file = SafeTensorsFile.Open(tensorsPath);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var variant in Enum.GetValues<PromptVariant>())
            foreach (var node in nodes)
            {
                string name = PromptVariants.Key(variant, node);
                var tensor = file.ReadFloat32(name);
                if (!tensor.Shape.SequenceEqual([expected.Prompts, node.Width(config)]))
                    throw new InvalidInputException($"tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}]");
                tensors[name] = tensor;
            }
        return new SiteActivations(nodes, expected.Prompts, tensors);
    }

    private static string SitesHash(IReadOnlyList<SiteNode> nodes) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', nodes))));

    internal sealed record Manifest(int Schema, string ModelHash, string PromptsHash, string SitesHash, string Split, string Basis,
        int Prompts, int DHead, string[] Nodes);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ActivationCache.Manifest))]
internal sealed partial class ManifestJson : System.Text.Json.Serialization.JsonSerializerContext;
