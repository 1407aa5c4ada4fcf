using System.CommandLine;
using System.Numerics;
using System.Text.Json;
using IoiBench.Reports;
using IoiBench.Model;

namespace IoiBench.Cli.Commands;

public enum OutputFormat { Text, Json }

/// <summary>An option that takes one of an enum's values, spelled in lower case ("processed", "cuda"); help lists them.</summary>
internal sealed class ChoiceOption<T> : Option<string> where T : struct, Enum
{
    /// <summary>Without a <paramref name="fallback"/> the option has no default: <see cref="Find"/> is then null when it is not given.</summary>
    public ChoiceOption(string name, string description, T? fallback) : base(name)
    {
        Description = description;
        if (fallback is { } value) DefaultValueFactory = _ => Spell(value);
        AcceptOnlyFromAmong([.. Enum.GetValues<T>().Select(Spell)]);
    }

    public static string Spell(T value) => value.ToString().ToLowerInvariant();

    public T Get(ParseResult parse) => Find(parse) ?? throw new InvalidOperationException($"{Name} has no default.");

    public T? Find(ParseResult parse) => parse.GetValue(this) is { } text ? Enum.GetValues<T>().First(v => Spell(v) == text) : null;
}

/// <summary>
/// The options every command spells the same way (--model, --basis, --device, --prepend-bos, --format, ...), the one
/// place where number options get their bounds, and reading the inspection commands' texts.
/// </summary>
internal static class CommonOptions
{
    /// <summary>--model; without it, the embedded model (<see cref="ModelDirectory"/> resolves it).</summary>
    public static Option<string?> Model() => new("--model")
    {
        Description = "Model directory (config.json, model.safetensors, vocab.json[, merges.txt]); default: the embedded model, models/ioi-tiny",
    };

    /// <summary>The model directory an option names, or the embedded model's.</summary>
    public static string ModelDirectory(ParseResult parse, Option<string?> model) => parse.GetValue(model) ?? Defaults.EmbeddedModel;

    /// <summary>--baseline-dims: the subspace baselines' dimension n.</summary>
    public static Option<int> BaselineDimensions() => Number("--baseline-dims",
        "Dimension n of the subspace baselines (PCA, probe and random directions; DiffMean has one)", fallback: 2, minimum: 1);

    /// <summary>--basis: the coordinates of q/k/v/z (logits are the same in every basis).</summary>
    public static ChoiceOption<ModelBasis> Basis(ModelBasis? fallback, string note = "") => new("--basis",
        "processed: TransformerLens's processing with the attention refactor, the reference's site basis; raw: the checkpoint's own " +
        "activations; transformerlens: HookedTransformer.from_pretrained's default processing (no refactor), SAELens SAEs' basis" + note,
        fallback);

    /// <summary>--device: where the model's forward passes run (<paramref name="work"/> says what else runs there).</summary>
    public static ChoiceOption<ComputeDevice> Device(string work = "the model runs") =>
        new("--device", $"Where {work}: cpu, or cuda (an NVIDIA GPU; 'ioibench device' checks the set-up)", ComputeDevice.Cpu);

    /// <summary>--prepend-bos: TransformerLens's prepend_bos; false gives Hugging Face's plain GPT-2 input.</summary>
    public static Option<bool> PrependBos() => new("--prepend-bos")
    {
        Description = "Prepend <|endoftext|> as BOS, as TransformerLens does (false: the text's tokens alone, as Hugging Face's GPT-2)",
        DefaultValueFactory = _ => true,
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>The presets that ship with IoiBench (presets/*.yaml), by name.</summary>
    private static IEnumerable<string> BundledPresets =>
        Directory.Exists(Defaults.PresetsDirectory)
            ? Directory.GetFiles(Defaults.PresetsDirectory, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!
            : [];

    /// <summary>--preset NAME (bundled, presets/NAME.yaml) or --config FILE.</summary>
    public static Option<string> Preset(string defaultName) => new("--preset", "--config")
    {
        Description = $"A bundled preset name ({string.Join(", ", BundledPresets)}) or a preset YAML file (--config FILE); default {defaultName}",
        DefaultValueFactory = _ => defaultName,
    };

    public static Option<string?> Sites() => new("--sites") { Description = "Sites file (default: MODEL/sites.yaml)" };

    /// <summary>--columns: the leaderboard's columns, comma-separated (docs/metrics.md defines each).</summary>
    public static Option<string?> LeaderboardColumns() => new("--columns")
    {
        Description = "Leaderboard columns, comma-separated, from: " + string.Join(", ", IoiBench.Reports.LeaderboardColumns.All.Select(c => c.Key)) +
                      " (default: " + string.Join(",", IoiBench.Reports.LeaderboardColumns.Default.Select(c => c.Key)) + ", each where the run has values)",
    };

    /// <summary>The chosen leaderboard columns, or the default ones.</summary>
    public static IReadOnlyList<IoiBench.Reports.LeaderboardColumn> Columns(ParseResult parse, Option<string?> columns) =>
        parse.GetValue(columns) is { } keys ? IoiBench.Reports.LeaderboardColumns.Parse(keys) : IoiBench.Reports.LeaderboardColumns.Default;

    public static Option<string?> Cache() => new("--cache") { Description = "Cache directory (default: $IOIBENCH_CACHE or ~/.cache/ioibench)" };

    public static Option<string?> Input() => new("--input")
    {
        Description = "File with one JSON string per line (texts may contain newlines)",
    };

    public static ChoiceOption<OutputFormat> Format() => new("--format", "text, or json (one JSON object per line)", OutputFormat.Text);

    /// <summary>
    /// A number option that must be at least <paramref name="minimum"/> (above it when <paramref name="strictly"/>): checked
    /// while parsing, so a bad value stops before any work.
    /// </summary>
    public static Option<T> Number<T>(string name, string description, T fallback, T minimum, bool strictly = false) where T : struct, INumber<T>
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<T>();
            if (strictly ? value <= minimum : value < minimum)
                result.AddError($"{name} must be {(strictly ? "greater than" : "at least")} {minimum} (got {value}).");
        });
        return option;
    }

    /// <summary>An optional number option (no default) that must be at least <paramref name="minimum"/> when given.</summary>
    public static Option<T?> OptionalNumber<T>(string name, string description, T minimum) where T : struct, INumber<T>
    {
        var option = new Option<T?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T?>() is { } value && value < minimum) result.AddError($"{name} must be at least {minimum} (got {value}).");
        });
        return option;
    }

    /// <summary>A model's name for files and reports: its directory's name.</summary>
    public static string ModelName(string modelDirectory) => Path.GetFileName(Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>The sites file (default: the model directory's sites.yaml), checked against the model.</summary>
    public static IoiBench.Sites.SitesFile LoadSites(string? sitesPath, LoadedModel model) =>
        IoiBench.Sites.SitesFile.Load(sitesPath ?? Path.Combine(model.Directory, "sites.yaml"), model.Model.Config);

    public static IoiBench.Activations.ActivationCache OpenCache(string? cacheDirectory) =>
        new(Path.Combine(cacheDirectory ?? IoiBench.Activations.ActivationCache.DefaultDirectory, "activations"));

    /// <summary>The texts given by exactly one of an inline option or <c>--input FILE</c>.</summary>
    public static List<string> ReadTexts(string? inline, string inlineName, string? inputFile)
    {
        if ((inline is null) == (inputFile is null))
            throw new InvalidInputException($"give exactly one of {inlineName} and --input.");
        if (inline is not null) return [inline];
        if (!File.Exists(inputFile)) throw new InvalidInputException($"{inputFile}: file not found.");

        var texts = new List<string>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(inputFile!))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                texts.Add(document.RootElement.ValueKind == JsonValueKind.String
                    ? document.RootElement.GetString()!
                    : throw new InvalidInputException($"{inputFile}:{lineNumber}: expected a JSON string, got {document.RootElement.ValueKind}."));
            }
            catch (JsonException e)
            {
                throw new InvalidInputException($"{inputFile}:{lineNumber}: not a JSON string ({e.Message}).", e);
            }
        }
        if (texts.Count == 0) throw new InvalidInputException($"{inputFile}: no texts found.");
        return texts;
    }

    public static string JsonLine(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps '+' ("s1+1") and non-ASCII tokens readable; each line is still valid JSON.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A number field; NaN and infinities are written as null (JSON has no number for them; text output prints "NaN").</summary>
    public static void Number(this Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }

    public static void WriteIds(Utf8JsonWriter json, IEnumerable<int> ids)
    {
        json.WriteStartArray("ids");
        foreach (int id in ids) json.WriteNumberValue(id);
        json.WriteEndArray();
    }
}
