using System.Text.Json;
using IoiBench.IO;

namespace IoiBench.Tests.Cli;

/// <summary>
/// Bad input and faults, as a user meets them: each is one line naming the file and the problem, exit code 2, and
/// nothing half-written; damaged caches and states are rebuilt; an output folder takes one run at a time.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class ReliabilityTests
{
    private const string Sites = "model: tiny\nnodes: [z@1.1@end, k@0.2@s1]\ncross_sections:\n" +
                                 "  - name: io-out\n    attribute: io\n    nodes: [z@1.1@end]\n";

    private const string Preset = "width: 16\nbatch_size: 16\nepochs: 2\nlearning_rate: 0.001\ncheckpoints: [1, 2]\nvariants:\n  vanilla:\n    l1: [1]\n  topk:\n    k: [2]\n";

    /// <summary>The tiny model and dataset, with any option replaced by <paramref name="overrides"/> (option, value, ...).</summary>
    private static string[] Dataset(params string[] overrides)
    {
        var options = new Dictionary<string, string>
        {
            ["--model"] = TestPaths.TinyModel, ["--prompts"] = TinyDataset.PromptsDirectory, ["--train"] = "60", ["--validation"] = "12",
            ["--test"] = "30", ["--seed"] = "3",
        };
        for (int i = 0; i < overrides.Length; i += 2) options[overrides[i]] = overrides[i + 1];
        return [.. options.SelectMany(o => new[] { o.Key, o.Value })];
    }

    private static string[] Train(TestPaths.TempDirectory dir, string output = "saes", params string[] overrides) =>
        ["train", .. Dataset(overrides), "--sites", dir.File("sites.yaml"), "--preset", dir.File("preset.yaml"), "--cache", dir.File("cache"),
            "--output", dir.File(output)];

    private static TestPaths.TempDirectory Setup(string sites = Sites, string preset = Preset)
    {
        var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), sites);
        File.WriteAllText(dir.File("preset.yaml"), preset);
        return dir;
    }

    /// <summary>Runs a command that must fail: exit 2, nothing on standard output, one error line (after any progress lines).</summary>
    private static string OneErrorLine(string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 2, $"exit {code}: {error}");
        Assert.Equal("", output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("ioibench:")).ToList();
        Assert.Single(lines);
        Assert.StartsWith("ioibench: error: ", lines[0]);
        Assert.EndsWith(lines[0], error.TrimEnd());
        return lines[0];
    }

    [Fact]
    public void AnOutputFolderTrainedFromOtherInputsIsRefusedAsOneLineNotAsAParallelFailure()
    {
        using var dir = Setup();
        Assert.Equal(0, CliRunner.Run(Train(dir)).Code);
        string error = OneErrorLine(Train(dir, overrides: ["--seed", "4"]));
        Assert.Contains("holds an SAE trained from another preset, seed or data", error);
        Assert.Contains(dir.File("saes"), error);
    }

    [Fact]
    public void ASaeThatDivergesIsReportedAndItsVariantLeftOutOfTheRun()
    {
        using var dir = Setup(preset: Preset.Replace("learning_rate: 0.001", "learning_rate: 1e30").Replace("checkpoints: [1, 2]", "checkpoints: [2]"));
        var (code, output, error) = CliRunner.Run([.. Train(dir), "--format", "json"]);
        Assert.True(code == 0, error);
        var vanilla = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .First(l => l.GetProperty("sae").GetString() == "vanilla-l1-1");
        Assert.Equal(1, vanilla.GetProperty("diverged_at_epoch").GetInt32());
        Assert.Equal(JsonValueKind.Null, vanilla.GetProperty("explained_variance").ValueKind);
        Assert.True(File.Exists(Path.Combine(vanilla.GetProperty("path").GetString()!, "diverged.json")));

        (code, _, error) = CliRunner.Run(["run", .. Dataset(), "--sites", dir.File("sites.yaml"), "--preset", dir.File("preset.yaml"), "--cache",
            dir.File("cache"), "--output", dir.File("run")]);
        Assert.True(code == 0, error);
        string leaderboard = File.ReadAllText(dir.File("run/leaderboard.md"));
        Assert.Contains("## Excluded SAEs", leaderboard);
        Assert.Contains("diverged at epoch 1", leaderboard);
        Assert.DoesNotContain("| agnostic | vanilla |", leaderboard);
    }

    [Fact]
    public void NonFiniteModelWeightsAreRejectedAtLoadNamingTheTensor()
    {
        using var dir = new TestPaths.TempDirectory();
        foreach (string file in Directory.GetFiles(TestPaths.TinyModel)) File.Copy(file, dir.File(Path.GetFileName(file)));
        using (var model = SafeTensorsFile.Open(dir.File("model.safetensors")))
        {
            // The float tensors (the causal-mask buffers, which the loader ignores, are left out).
            var tensors = model.Tensors.Where(t => t.DType == "F32").ToDictionary(t => t.Name, t => model.ReadFloat32(t.Name));
            tensors["transformer.h.0.attn.c_attn.weight"].Span[5] = float.NaN;
            SafeTensorsWriter.Write(dir.File("model.safetensors.new"), tensors);
        }
        File.Move(dir.File("model.safetensors.new"), dir.File("model.safetensors"), overwrite: true);
        foreach (string format in new[] { "text", "json" })
        {
            string error = OneErrorLine(["logits", "--model", dir.Path, "--prompt", "Then, Mary", "--format", format]);
            Assert.Contains("'transformer.h.0.attn.c_attn.weight'", error);
            Assert.Contains("NaN", error);
        }
    }

    [Fact]
    public void ADamagedCacheEntryAndADamagedTrainingStateAreRebuiltWithAWarning()
    {
        using var dir = Setup();
        Assert.Equal(0, CliRunner.Run(Train(dir)).Code);
        // 4 KB of 0xFF inside every cached activation file: same size, other bytes.
        foreach (string file in Directory.GetFiles(dir.File("cache/activations"), "*.safetensors"))
        {
            using var stream = File.OpenWrite(file);
            stream.Seek(stream.Length / 2, SeekOrigin.Begin);
            stream.Write(Enumerable.Repeat((byte)0xFF, 4096).ToArray());
        }
        var (code, _, error) = CliRunner.Run(Train(dir));
        Assert.True(code == 0, error);
        Assert.Contains("does not match the checksum", error);
        Assert.Contains("rebuilding it", error);

        // A truncated resumable state: training starts that SAE over.
        string sae = Directory.GetDirectories(dir.File("saes"), "vanilla-l1-1", SearchOption.AllDirectories)[0];
        foreach (string file in Directory.GetFiles(sae)) File.Delete(file);
        File.WriteAllBytes(Path.Combine(sae, "training-state.safetensors"), new byte[100]);
        (code, _, error) = CliRunner.Run(Train(dir));
        Assert.True(code == 0, error);
        Assert.Contains("training-state.safetensors is unusable", error);
        Assert.True(File.Exists(Path.Combine(sae, "cfg.json")));
    }

    [Fact]
    public void ADamagedFinishedSaeIsTrainedAgain()
    {
        using var dir = Setup();
        Assert.Equal(0, CliRunner.Run(Train(dir)).Code);
        string weights = Directory.GetFiles(dir.File("saes"), "sae_weights.safetensors", SearchOption.AllDirectories)[0];
        var bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        var (code, _, error) = CliRunner.Run(Train(dir));
        Assert.True(code == 0, error);
        Assert.Contains("training that SAE again", error);
        using var reread = SafeTensorsFile.Open(weights);   // rewritten whole
    }

    [Theory]
    [InlineData("model: tiny\nnodes: [z@1.9@end]\ncross_sections: []\n", "layer 1, head 9")]
    [InlineData("model: tiny\nnodes: [z@7.1@end]\ncross_sections: []\n", "layer 7")]
    [InlineData("model: tiny\nhead_classes:\n  nm: [\"5.0\"]\nnodes: [z@1.1@end]\ncross_sections: []\n", "head class 'nm'")]
    [InlineData("model: tiny\nnodes: []\ncross_sections: []\n", "'nodes' is empty")]
    [InlineData("model: tiny\nnodes: [z@1.1@end]\ncross_sections:\n  - name: a\n    attribute: io\n    nodes: []\n", "has no nodes")]
    [InlineData("model: tiny\nnodes: [z@1.1@end]\ncross_sections:\n  - name: a\n    attribute: io\n    nodes: [z@1.1@end]\n" +
                "  - name: a\n    attribute: pos\n    nodes: [z@1.1@end]\n", "name 'a' is used twice")]
    public void SitesThatDoNotFitTheModelAreRejectedWithTheirLineBeforeAnyWork(string sites, string expected)
    {
        using var dir = Setup(sites: sites);
        string error = OneErrorLine(Train(dir));
        Assert.Contains(dir.File("sites.yaml"), error);
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(dir.File("cache")));
    }

    [Fact]
    public void APresetWhoseKExceedsTheWidthIsRejectedNamingTheKey()
    {
        using var dir = Setup(preset: Preset.Replace("k: [2]", "k: [64]"));
        string error = OneErrorLine(Train(dir));
        Assert.Contains("preset.yaml", error);
        Assert.Contains("'k' (64) must not exceed width (16)", error);
    }

    [Fact]
    public void ATemplateLongerThanTheModelsContextIsRejectedNamingIt()
    {
        using var dir = Setup();
        Directory.CreateDirectory(dir.File("prompts"));
        foreach (string file in Directory.GetFiles(TinyDataset.PromptsDirectory)) File.Copy(file, dir.File($"prompts/{Path.GetFileName(file)}"));
        string templates = File.ReadAllText(dir.File("prompts/templates.yaml"));
        string longTemplate = string.Concat(Enumerable.Repeat(" and", 30));
        File.WriteAllText(dir.File("prompts/templates.yaml"), templates.Replace(" to\"", longTemplate + " to\""));
        string error = OneErrorLine(Train(dir, overrides: ["--prompts", dir.File("prompts")]));
        Assert.Contains("templates.yaml", error);
        Assert.Contains("the model takes at most 24", error);
    }

    [Theory]
    [InlineData("--validation", "0", "validation split is empty")]
    [InlineData("--test", "2000000000", "more than the")]
    public void SplitsARunCannotUseAreRejectedBeforeAnyWork(string option, string value, string expected)
    {
        using var dir = Setup();
        string error = OneErrorLine(["run", .. Dataset(option, value), "--sites", dir.File("sites.yaml"), "--preset", dir.File("preset.yaml"),
            "--cache", dir.File("cache"), "--output", dir.File("run")]);
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(dir.File("cache")));
    }

    [Fact]
    public void AnOutputPathThatCannotBeWrittenIsOneLineNamingIt()
    {
        using var dir = Setup();
        File.WriteAllText(dir.File("blocker"), "a file where a folder should go");
        string error = OneErrorLine(Train(dir, output: "blocker/saes"));
        Assert.Contains(dir.File("blocker"), error);
    }

    [Fact]
    public void ASecondRunIntoAFolderInUseIsRefusedAtOnceAndALeftOverLockDoesNotBlock()
    {
        using var dir = Setup();
        using (DirectoryLock.Acquire(dir.File("saes")))
        {
            string error = OneErrorLine(Train(dir));
            Assert.Contains($"{dir.File("saes")} is in use by ioibench process {Environment.ProcessId}", error);
        }
        // The lock file stays behind, as after a killed run; it no longer blocks.
        Assert.True(File.Exists(dir.File("saes/.ioibench.lock")));
        Assert.Equal(0, CliRunner.Run(Train(dir)).Code);
    }

    [Fact]
    public void TemporaryFilesOfDeadProcessesAreRemovedAndLiveOnesKept()
    {
        using var dir = new TestPaths.TempDirectory();
        Directory.CreateDirectory(dir.File("a/b"));
        string orphan = dir.File($"a/b/.cfg.json.{int.MaxValue}-{Guid.NewGuid():N}.tmp");
        string live = dir.File($"a/.cfg.json.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        string other = dir.File("a/notes.tmp");
        foreach (string f in new[] { orphan, live, other }) File.WriteAllText(f, "x");
        Assert.Equal(1, AtomicFile.RemoveOrphans(dir.Path));
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(live) && File.Exists(other));
    }
}
