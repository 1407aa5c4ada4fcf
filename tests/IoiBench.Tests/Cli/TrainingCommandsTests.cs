using System.Text.Json;

namespace IoiBench.Tests.Cli;

/// <summary>The SAE training commands (they train in parallel and set the process-wide GEMM thread count).</summary>
[Collection(GemmThreadsCollection.Name)]
public class TrainingCommandsTests
{
    private static readonly string[] Dataset = ["--prompts", TinyDataset.PromptsDirectory, "--train", "60", "--validation", "12", "--test", "30", "--seed", "3"];

    private static List<JsonElement> JsonLines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public void SynthPrintsOneJsonObjectPerVariantWithItsMeanMaxCosine()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("p.yaml"), "width: 32\nbatch_size: 64\nepochs: 2\nlearning_rate: 0.001\nvariants:\n  vanilla:\n    l1: [1]\n  gated:\n    l1: [1]\n  topk:\n    k: [2]\n");
        var (code, output, _) = CliRunner.Run("synth", "--preset", dir.File("p.yaml"), "--features", "16", "--dimension", "8", "--samples", "500", "--format", "json");
        Assert.Equal(0, code);
        var lines = JsonLines(output);
        Assert.Equal(["vanilla", "gated", "topk"], lines.Select(l => l.GetProperty("variant").GetString()));
        Assert.All(lines, l => Assert.InRange(l.GetProperty("mmcs").GetDouble(), -1, 1));
    }

    [Fact]
    public void AnUnknownPresetIsAnErrorListingTheBundledOnes()
    {
        var (code, _, error) = CliRunner.Run("synth", "--preset", "nope");
        Assert.Equal(2, code);
        Assert.Contains("--preset nope", error);
        Assert.Contains("makelov2024", error);
    }

    [Fact]
    public void TrainWritesEverySaeAndReportsItsQuality()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end]\ncross_sections:\n  - name: a\n    attribute: io\n    nodes: [z@1.1@end]\n");
        File.WriteAllText(dir.File("p.yaml"), "width: 16\nbatch_size: 16\nepochs: 2\nlearning_rate: 0.001\nvariants:\n  gated:\n    l1: [1]\n  topk:\n    k: [2]\n");
        var (code, output, _) = CliRunner.Run(["train", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--cache", dir.Path,
            "--preset", dir.File("p.yaml"), "--output", dir.File("saes"), "--format", "json", .. Dataset]);
        Assert.Equal(0, code);
        var lines = JsonLines(output);
        Assert.Equal(["gated-l1-1", "topk-k2"], lines.Select(l => l.GetProperty("sae").GetString()));
        Assert.Equal(2.0, lines[1].GetProperty("l0").GetDouble(), 6);
        Assert.All(lines, l => Assert.True(File.Exists(Path.Combine(l.GetProperty("path").GetString()!, "cfg.json"))));
    }

    [Fact]
    public void BenchTrainTimesASweepOnRandomActivationsAndLeavesNothingBehind()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end, q@1.0@end]\ncross_sections: []\n");
        File.WriteAllText(dir.File("p.yaml"), "width: 16\nbatch_size: 32\nepochs: 10\nlearning_rate: 0.001\ncheckpoints: [1, 5]\n" +
            "variants:\n  vanilla:\n    l1: [1]\n  topk:\n    k: [2, 4]\n");
        var (code, output, _) = CliRunner.Run("bench-train", "--config", dir.File("p.yaml"), "--sites", dir.File("sites.yaml"), "--examples", "100",
            "--dimension", "8", "--epochs", "2", "--format", "json");
        Assert.Equal(0, code);
        var line = Assert.Single(JsonLines(output));
        Assert.Equal(6, line.GetProperty("saes").GetInt32());   // 2 nodes × 3 SAEs
        Assert.Equal(2, line.GetProperty("epochs").GetInt32());
        Assert.Equal("cpu", line.GetProperty("device").GetString());
        Assert.True(line.GetProperty("projected_seconds").GetDouble() >= line.GetProperty("seconds").GetDouble());
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), $"ioibench-bench-train-{Environment.ProcessId}")));
    }
}
