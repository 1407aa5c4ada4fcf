using System.Globalization;
using System.Text.Json;
using IoiBench.Metrics;
using IoiBench.Prompts;

namespace IoiBench.Runs;

/// <summary>Reads the edit results and provenance back from a run's <c>run.json</c> (for merged leaderboards).</summary>
public static class RunFile
{
    public static (RunProvenance Provenance, List<EditResult> Edits) Read(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "run.json");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found (a run directory holds run.json).");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            int version = root.GetProperty("schema_version").GetInt32();
            if (version != RunReport.SchemaVersion)
                throw new InvalidInputException($"{path}: schema_version {version}; this IoiBench reads version {RunReport.SchemaVersion}.");
            var p = root.GetProperty("provenance");
            var provenance = new RunProvenance(p.GetProperty("run_id").GetString()!, p.GetProperty("model").GetString()!, p.GetProperty("model_hash").GetString()!,
                p.GetProperty("dataset_hash").GetString()!, p.GetProperty("seed").GetUInt64(), p.GetProperty("preset").GetString()!,
                p.GetProperty("preset_hash").GetString()!, p.GetProperty("selection").GetString()!, p.GetProperty("version").GetString()!,
                DateTimeOffset.Parse(p.GetProperty("finished").GetString()!, CultureInfo.InvariantCulture));
            var edits = root.GetProperty("edits").EnumerateArray().Select(e => new EditResult(
                e.GetProperty("cross_section").GetString()!, e.GetProperty("label").GetString()!,
                Enum.Parse<IoiAttribute>(e.GetProperty("attribute").GetString()!, ignoreCase: true),
                e.GetProperty("method").GetString()!, e.GetProperty("variant").GetString()!,
                Interval(e.GetProperty("edit_accuracy")), Interval(e.GetProperty("weight_removed")),
                Interval(e.GetProperty("logit_diff")), Interval(e.GetProperty("ioi_accuracy")))).ToList();
            return (provenance, edits);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidInputException($"{path}: not a run.json of this schema ({e.Message}).", e);
        }
    }

    private static Estimate Interval(JsonElement e)
    {
        double D(string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? double.NaN : e.GetProperty(name).GetDouble();
        return new Estimate(D("mean"), D("lower"), D("upper"), e.GetProperty("n").GetInt32());
    }
}
