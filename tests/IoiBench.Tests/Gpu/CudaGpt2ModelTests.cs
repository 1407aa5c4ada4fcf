using IoiBench.Activations;
using IoiBench.Cuda;
using IoiBench.DeviceCheck;
using IoiBench.Model;
using IoiBench.Saes;
using IoiBench.Numerics;
using IoiBench.Prompts;
using IoiBench.Sites;
using IoiBench.Tests.Cli;
using IoiBench.Tests.Model;

namespace IoiBench.Tests.Gpu;

/// <summary>
/// The GPU forward pass against the PyTorch reference (the CPU model's checks, Model/Gpt2ForwardTests) and against the
/// CPU on what the reference does not cover: processed weights, k patches, batch shapes, a whole run.
/// </summary>
[Collection(GemmThreadsCollection.Name)]
public class CudaGpt2ModelTests
{
    private static readonly Lazy<CudaGpt2Model> RawOnGpu = new(() => new CudaGpt2Model(Gpt2ForwardTests.Raw.Value.Model.Weights));

    [GpuFact]
    public void LogitsAtEveryPositionMatchTheReference() => Gpt2ForwardTests.LogitsMatchTheReference(RawOnGpu.Value);

    [GpuTheory]
    [InlineData(HookPoint.Q)]
    [InlineData(HookPoint.K)]
    [InlineData(HookPoint.V)]
    [InlineData(HookPoint.Z)]
    [InlineData(HookPoint.Pattern)]
    public void EveryHeadActivationMatchesTheReference(HookPoint point) => Gpt2ForwardTests.HeadActivationsMatchTheReference(RawOnGpu.Value, point);

    [GpuTheory]
    [MemberData(nameof(Gpt2ForwardTests.WholeLayerHooks), MemberType = typeof(Gpt2ForwardTests))]
    public void EveryWholeLayerActivationMatchesTheReference(HookPoint point) =>
        Gpt2ForwardTests.LayerActivationsMatchTheReference(RawOnGpu.Value, point);

    [GpuTheory]
    [MemberData(nameof(Gpt2ForwardTests.PatchNames), MemberType = typeof(Gpt2ForwardTests))]
    public void PatchesChangeEverythingDownstreamAsInTheReference(string patchName) => Gpt2ForwardTests.PatchMatchesTheReference(RawOnGpu.Value, patchName);

    [GpuFact]
    public void APassStartedFromACapturedResidualStreamIsTheFullPass() => Gpt2ForwardTests.StartedPassMatchesTheReference(RawOnGpu.Value);

    [NvrtcFact]
    public void TheForwardKernelsCompileAndAreExactlyTheOnesTheModelLaunches()
    {
        string ptx = System.Text.Encoding.UTF8.GetString(CudaModule.Compile(["gpt2_forward.cu"]));
        string model = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src", "IoiBench", "Model", "CudaGpt2Model.cs"));
        var launched = System.Text.RegularExpressions.Regex.Matches(model, "(?:Launch|LaunchElementwise)\\(\"(\\w+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        string[] kernels = ["embed", "layer_norm", "add_bias", "gelu_new", "hook_values", "add_to_residual", "attention_pattern", "pattern_values", "attention_output"];
        Assert.All(kernels, kernel => Assert.Contains($".entry {kernel}(", ptx));
        Assert.Equal(kernels.Order(), launched.Order());
    }

    [GpuFact]
    public void OnProcessedWeightsLogitsAndEveryHookPointsCapturesMatchTheCpu()
    {
        var cpu = ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Processed).Model;
        using var gpu = new CudaGpt2Model(cpu.Weights);
        var tokens = RandomTokens(cpu.Config, batch: 3, seqLen: 11, seed: 5);
        int[] logitPositions = [10, 4, 10, 7, 10, 0];

        (Tensor Logits, List<ActivationCapture> Captures) Run(ITransformer model)
        {
            var hooks = new HookSet();
            var captures = new List<ActivationCapture>();
            foreach (var hook in HeadHook.Every(cpu.Config)) captures.Add(hooks.Capture(hook, [10, 3, 6]));
            return (model.Forward(tokens, logitPositions, hooks), captures);
        }

        var (cpuLogits, cpuCaptures) = Run(cpu);
        var (gpuLogits, gpuCaptures) = Run(gpu);
        AssertClose(cpuLogits.Span.ToArray(), gpuLogits.Span.ToArray(), "logits");
        foreach (var (c, g) in cpuCaptures.Zip(gpuCaptures))
        {
            Assert.Equal(c.Width, g.Width);
            AssertClose(c.Values, g.Values, c.Hook.ToString());
        }
        // The pattern row of query 3 holds zeros after it, as on the CPU.
        var pattern = gpuCaptures.First(c => c.Hook.Point == HookPoint.Pattern);
        Assert.All(pattern.Row(1)[4..].ToArray(), v => Assert.Equal(0f, v));
    }

    [GpuFact]
    public void PatchesAtEveryHookPointChangeWhatFollowsAsOnTheCpu()
    {
        var cpu = ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Processed).Model;
        using var gpu = new CudaGpt2Model(cpu.Weights);
        var cfg = cpu.Config;
        var tokens = RandomTokens(cfg, batch: 2, seqLen: 9, seed: 8);
        var random = new Random(13);
        var patches = new List<(HeadHook Hook, int[] Positions, float[] Values)>();
        var hooks = Enum.GetValues<HookPoint>()
            .Select(point => new HeadHook(point, (int)point % cfg.NLayer, point.IsStream() ? HeadHook.AllHeads : 1 + (int)point % (cfg.NHead - 1)))
            .Append(new HeadHook(HookPoint.Z, 0, HeadHook.AllHeads));
        foreach (var hook in hooks)
        {
            int width = hook.Point == HookPoint.Pattern ? tokens.SeqLen : hook.WholeLayer ? cfg.DModel : cfg.DHead;
            patches.Add((hook, [5, 8], Enumerable.Range(0, 2 * width).Select(_ => random.NextSingle()).ToArray()));
        }

        (Tensor Logits, ActivationCapture[] Captures) Run(ITransformer model)
        {
            var hooks = new HookSet();
            foreach (var (hook, positions, values) in patches) hooks.Patch(hook, positions, values);
            // A capture at each patched hook sees the patch; one downstream sees its effect.
            var captures = patches.Select(p => hooks.Capture(p.Hook, p.Positions))
                .Append(hooks.Capture(new HeadHook(HookPoint.Z, cfg.NLayer - 1, 0), [8, 8])).ToArray();
            return (model.Forward(tokens, [8, 8], hooks), captures);
        }

        var (cpuLogits, cpuCaptures) = Run(cpu);
        var (gpuLogits, gpuCaptures) = Run(gpu);
        AssertClose(cpuLogits.Span.ToArray(), gpuLogits.Span.ToArray(), "patched logits");
        foreach (var (c, g) in cpuCaptures.Zip(gpuCaptures)) AssertClose(c.Values, g.Values, c.Hook.ToString());
        Assert.Equal(patches[0].Values, gpuCaptures[0].Values);   // a q patch is read back as written

        var unpatched = gpu.Forward(tokens, [8, 8]);
        Assert.NotEqual(unpatched.Span.ToArray(), gpuLogits.Span.ToArray());
    }

    [GpuFact]
    public void BatchesOfDifferentShapesReuseTheModelAndBadInputIsRejectedBeforeAnyWork()
    {
        var cpu = ModelDirectory.Load(TestPaths.TinyModel, ModelBasis.Processed).Model;
        using var gpu = new CudaGpt2Model(cpu.Weights);
        foreach (var (batch, seqLen) in new[] { (1, 3), (5, 20), (2, 6) })
        {
            var tokens = RandomTokens(cpu.Config, batch, seqLen, seed: batch);
            int[] positions = [.. Enumerable.Range(0, batch).Select(b => seqLen - 1 - b % seqLen)];
            AssertClose(cpu.Forward(tokens, positions).Span.ToArray(), gpu.Forward(tokens, positions).Span.ToArray(), $"{batch}×{seqLen}");
        }
        Assert.Empty(gpu.Forward(RandomTokens(cpu.Config, 2, 4, seed: 1), []).Span.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => gpu.Forward(new TokenBatch([1, cpu.Config.VocabSize], 1, 2), [1]));
    }

    [GpuFact]
    public void ARunOnCudaWithTheSameSaesScoresAsTheCpuRun()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end, q@1.0@end]\ncross_sections:\n" +
            "  - name: io-out\n    label: IO in z\n    attribute: io\n    nodes: [z@1.1@end]\n" +
            "  - name: pos-q\n    label: Pos in q\n    attribute: pos\n    nodes: [q@1.0@end]\n");
        File.WriteAllText(dir.File("p.yaml"), "width: 16\nbatch_size: 16\nepochs: 2\nlearning_rate: 0.001\nvariants:\n  topk:\n    k: [2, 4]\n");
        string[] common = ["run", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--prompts", TinyDataset.PromptsDirectory,
            "--train", "60", "--validation", "12", "--test", "30", "--seed", "3", "--preset", dir.File("p.yaml"), "--cache", dir.Path,
            "--pathology-prompts", "30", "--probe-train", "60"];
        var (cpuCode, _, cpuError) = CliRunner.Run([.. common, "--output", dir.File("cpu")]);
        Assert.True(cpuCode == 0, cpuError);
        // The GPU run finds the CPU's finished SAEs and reuses them: only the forward passes move to the GPU.
        CopyDirectory(dir.File("cpu/saes"), dir.File("gpu/saes"));
        var (gpuCode, _, gpuError) = CliRunner.Run([.. common, "--output", dir.File("gpu"), "--device", "cuda"]);
        Assert.True(gpuCode == 0, gpuError);

        foreach (string table in new[] { "edits.csv", "selections.csv", "pathology.csv", "recovery.csv" })
        {
            var cpuRows = File.ReadAllLines(dir.File($"cpu/{table}"));
            var gpuRows = File.ReadAllLines(dir.File($"gpu/{table}"));
            Assert.Equal(cpuRows.Length, gpuRows.Length);
            foreach (var (c, g) in cpuRows.Zip(gpuRows))
                foreach (var (cell, gpuCell) in c.Split(',').Zip(g.Split(',')))
                    if (double.TryParse(cell, System.Globalization.CultureInfo.InvariantCulture, out double value))
                        Assert.True(Math.Abs(value - double.Parse(gpuCell, System.Globalization.CultureInfo.InvariantCulture)) <= 1e-3 * (1 + Math.Abs(value)),
                            $"{table}: CPU row '{c}', GPU row '{g}'");
                    else Assert.Equal(cell, gpuCell);
        }
    }

    [GpuFact]
    public void ActivationsExtractedOnTheGpuMatchTheCpusAndAreCachedUnderTheSameKey()
    {
        using var dir = new TestPaths.TempDirectory();
        var loaded = TinyDataset.Model.Value;
        var dataset = TinyDataset.Generate();
        SiteNode[] nodes = [.. new[] { "z@1.2@end", "k@1.0@io", "v@0.3@s2", "q@0.1@s1+1" }.Select(SiteNode.Parse)];
        using var gpu = new CudaGpt2Model(loaded.Model.Weights);
        var onCpu = new ActivationCache(dir.File("cpu")).GetOrExtract(loaded, dataset, DatasetSplit.Test, nodes);
        var onGpu = new ActivationCache(dir.File("gpu")).GetOrExtract(loaded, dataset, DatasetSplit.Test, nodes,
            transformer: gpu);
        Assert.False(onGpu.Hit);
        Assert.Equal(Path.GetFileName(onCpu.Path), Path.GetFileName(onGpu.Path));
        Assert.Equal(onCpu.Activations.Tensors.Keys.Order(), onGpu.Activations.Tensors.Keys.Order());
        foreach (var (key, expected) in onCpu.Activations.Tensors) AssertClose(expected.Span.ToArray(), onGpu.Activations.Tensors[key].Span.ToArray(), key);
    }

    [GpuFact]
    public void BenchForwardTimesTheGpuAndNamesIt()
    {
        var line = BenchForwardCommandTests.Run("--model", TestPaths.TinyModel, "--batch", "4", "--seq-len", "6", "--batches", "2", "--device", "cuda");
        Assert.DoesNotContain("cpu (", line.GetProperty("device").GetString());
        BenchForwardCommandTests.AssertConsistent(line, batch: 4);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static TokenBatch RandomTokens(Gpt2Config cfg, int batch, int seqLen, int seed)
    {
        var random = new Random(seed);
        return new TokenBatch([.. Enumerable.Range(0, batch * seqLen).Select(_ => random.Next(cfg.VocabSize))], batch, seqLen);
    }

    /// <summary>Float32 agreement: the two sides sum in different orders.</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f + 1e-4f * Math.Abs(expected[i]),
                $"{what}[{i}]: CPU {expected[i]}, GPU {actual[i]}");
    }
}
