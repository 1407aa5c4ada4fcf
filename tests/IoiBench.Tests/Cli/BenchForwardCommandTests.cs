using System.Text.Json;
using IoiBench.Sites;

namespace IoiBench.Tests.Cli;

/// <summary>ioibench bench-forward on the CPU (on a GPU: Gpu/CudaGpt2ModelTests).</summary>
[Collection(GemmThreadsCollection.Name)]
public class BenchForwardCommandTests
{
    internal static JsonElement Run(params string[] args)
    {
        var (code, output, error) = CliRunner.Run(["bench-forward", "--format", "json", .. args]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    internal static void AssertConsistent(JsonElement line, int batch)
    {
        double median = line.GetProperty("median_ms").GetDouble();
        Assert.InRange(median, line.GetProperty("min_ms").GetDouble(), line.GetProperty("max_ms").GetDouble());
        Assert.Equal(batch / (median / 1000), line.GetProperty("prompts_per_second").GetDouble(), 6);
        Assert.True(line.GetProperty("gflops").GetDouble() > 0);
    }

    [Fact]
    public void OnAModelItTimesPatchedPassesWithoutAProjectionForOtherShapes()
    {
        var line = Run("--model", TestPaths.TinyModel, "--batch", "3", "--seq-len", "5", "--batches", "3");
        Assert.Equal("tiny-gpt2", line.GetProperty("model").GetString());
        Assert.StartsWith("cpu (", line.GetProperty("device").GetString());
        Assert.Equal(3, line.GetProperty("batches").GetInt32());
        AssertConsistent(line, batch: 3);
        Assert.False(line.TryGetProperty("makelov2024_ld_projected_seconds", out _));
    }

    [Fact]
    public void OnGpt2SmallsShapeItProjectsTheMakelovEvaluation()
    {
        var line = Run("--batch", "2", "--seq-len", "3", "--batches", "1");
        Assert.Equal("random GPT-2 small shape", line.GetProperty("model").GetString());
        AssertConsistent(line, batch: 2);
        // 55 nodes × 12 SAEs × (13 checkpoints before epoch 2,000 + the end) × 500 prompts.
        Assert.Equal(55 * 12 * 14 * 500, line.GetProperty("makelov2024_ld_full_passes_projected_seconds").GetDouble() * line.GetProperty("prompts_per_second").GetDouble(), 3);

        // Each node's 500 prompts per candidate, in passes of 2, started at its layer: the last-layer pass's time plus
        // one layer's time for each layer before the last.
        double fromLast = line.GetProperty("last_layer_start_median_ms").GetDouble(), perLayer = line.GetProperty("ms_per_layer").GetDouble();
        Assert.Equal(Math.Max(0, line.GetProperty("median_ms").GetDouble() - fromLast) / 11, perLayer, 9);
        var layers = SitesFile.Load(Path.Combine(TestPaths.RepoRoot, "models", "gpt2-small", "sites.yaml")).Nodes
            .Where(n => !n.HeadHook.WholeLayer).Select(n => n.Layer).ToList();
        Assert.Equal(55, layers.Count);
        double expected = layers.Sum(l => 12 * 14 * (500 / 2.0) * (fromLast + (11 - l) * perLayer)) / 1000;
        Assert.Equal(expected, line.GetProperty("makelov2024_ld_projected_seconds").GetDouble(), expected * 1e-12);
    }

    [Fact]
    public void BadSizesAndSequencesLongerThanTheModelAreRejected()
    {
        var (code, _, error) = CliRunner.Run("bench-forward", "--batches", "0");
        Assert.Equal(2, code);
        Assert.Contains("--batches", error);
        (code, _, error) = CliRunner.Run("bench-forward", "--model", TestPaths.TinyModel, "--seq-len", "25");
        Assert.Equal(2, code);
        Assert.Contains("exceeds the model's 24 positions", error);
    }
}
