using IoiBench.Cuda;
using IoiBench.DeviceCheck;
using IoiBench.Model;
using IoiBench.Saes;
using IoiBench.Tests.Cli;

namespace IoiBench.Tests.Gpu;

/// <summary>The CUDA layer and GPU training (they train on the CPU too, which sets the process-wide GEMM thread count).</summary>
[Collection(GemmThreadsCollection.Name)]
public class CudaTests
{
    [NoDriverFact]
    public void WithoutTheDriverTheCheckNamesTheMissingLibraryAndRunsNothingThatNeedsIt()
    {
        var checks = CudaSelfTest.Run();
        var driver = checks.Single(c => c.Component == "driver");
        Assert.False(driver.Ok);
        Assert.Contains("libcuda.so.1", driver.Detail);
        Assert.All(checks.Where(c => c.Component is "kernel launch" or "cublas product"), c => Assert.StartsWith("not run: needs a GPU", c.Detail));
        Assert.False(CudaSelfTest.Usable(checks));

        var (code, output, _) = CliRunner.Run("device");
        Assert.Equal(2, code);
        Assert.Contains("libcuda.so.1", output);
    }

    [NvrtcFact]
    public void NvrtcCompilesAKernelToPtxAndReportsACompileErrorWithItsLog()
    {
        var ptx = Nvrtc.Compile("extern \"C\" __global__ void scale(float* x, float a) { x[threadIdx.x] *= a; }", "scale.cu", []);
        string text = System.Text.Encoding.UTF8.GetString(ptx);
        Assert.Contains(".entry scale", text);
        Assert.Equal(0, ptx[^1]);   // NUL-terminated, as cuModuleLoadData reads it

        var error = Assert.Throws<InvalidInputException>(() => Nvrtc.Compile("extern \"C\" __global__ void broken( { }", "broken.cu", []));
        Assert.Contains("broken.cu does not compile", error.Message);
        Assert.Contains("error", error.Message);
    }

    public static TheoryData<string> Variants => [.. SaeVariants.All.Select(v => v.Name)];

    /// <summary>
    /// Each variant's module (the shared kernels, then its own) compiles for the widths the trainer asks for, and has
    /// every kernel that the trainer and the variant's GPU step launch; the variant's file has no kernel it never launches.
    /// </summary>
    [NvrtcTheory]
    [MemberData(nameof(Variants))]
    public void EachVariantsTrainingKernelsCompileWithEveryKernelTheyLaunch(string name)
    {
        var variant = SaeVariants.Get(name);
        string source = Path.Combine(TestPaths.RepoRoot, "src", "IoiBench");
        string folder = Path.GetDirectoryName(Directory.GetFiles(source, variant.KernelFile, SearchOption.AllDirectories).Single())!;
        var launched = Directory.GetFiles(folder, "*.cs").Append(Path.Combine(source, "Saes", "Training", "Gpu", "BatchedSaeTrainer.cs"))
            .SelectMany(file => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(file), "(?:Launch|LaunchElementwise|LaunchPerRow)\\(\"(\\w+)\""))
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        // No kernel of the variant's own file is left unused: its step names each one.
        var defined = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(folder, variant.KernelFile)),
            "extern \"C\" __global__ void (\\w+)\\(").Select(m => m.Groups[1].Value).ToList();
        string steps = string.Concat(Directory.GetFiles(folder, "*.cs").Select(File.ReadAllText));
        Assert.All(defined, kernel => Assert.Contains($"\"{kernel}\"", steps));
        launched.AddRange(defined);
        foreach (int slots in new[] { 1, 16, 32 })
        {
            string ptx = System.Text.Encoding.UTF8.GetString(BatchedSaeTrainer.Compile(variant, [$"LATENT_SLOTS={slots}"]));
            Assert.All(launched, kernel => Assert.Contains($".entry {kernel}(", ptx));
        }
    }

    [NoDriverFact]
    public void TrainingOnCudaWithoutTheDriverFailsBeforeWritingAnythingAndNamesWhatIsMissing()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end]\ncross_sections: []\n");
        var (code, _, error) = CliRunner.Run("bench-train", "--sites", dir.File("sites.yaml"), "--device", "cuda", "--examples", "100", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("--device cuda", error);
        Assert.Contains("libcuda.so.1", error);
        Assert.Contains("ioibench device", error);
    }

    [GpuFact]
    public void OnAGpuEveryCheckPassesAgainstTheCpu()
    {
        var checks = CudaSelfTest.Run();
        Assert.True(CudaSelfTest.Usable(checks), string.Join("\n", checks.Select(c => $"{c.Component}: {c.Detail}")));
    }

    [GpuFact]
    public void TrainOnCudaWritesSaesMarkedAsGpuTrainedThatScoreAsTheCpuOnes()
    {
        using var dir = new TestPaths.TempDirectory();
        File.WriteAllText(dir.File("sites.yaml"), "model: tiny\nnodes: [z@1.1@end, k@0.2@s1]\ncross_sections: []\n");
        File.WriteAllText(dir.File("p.yaml"), "width: 16\nbatch_size: 16\nepochs: 3\nlearning_rate: 0.001\ncheckpoints: [1, 3]\n" +
            "resample_after_epochs: [0]\nvariants:\n  vanilla:\n    l1: [1]\n  gated:\n    l1: [1]\n  topk:\n    k: [2]\n");
        string[] common = ["train", "--model", TestPaths.TinyModel, "--sites", dir.File("sites.yaml"), "--cache", dir.Path, "--preset", dir.File("p.yaml"),
            "--format", "json", "--prompts", TinyDataset.PromptsDirectory, "--train", "60", "--validation", "12", "--test", "30", "--seed", "3"];
        var (cpuCode, cpu, _) = CliRunner.Run([.. common, "--output", dir.File("cpu")]);
        var (gpuCode, gpu, error) = CliRunner.Run([.. common, "--output", dir.File("gpu"), "--device", "cuda"]);
        Assert.Equal(0, cpuCode);
        Assert.True(gpuCode == 0, error);

        var cpuLines = cpu.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var gpuLines = gpu.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(6, gpuLines.Count);
        foreach (var (c, g) in cpuLines.Zip(gpuLines))
        {
            Assert.Equal(c.GetProperty("sae").GetString(), g.GetProperty("sae").GetString());
            Assert.Equal(c.GetProperty("explained_variance").GetDouble(), g.GetProperty("explained_variance").GetDouble(), 4);
            string directory = g.GetProperty("path").GetString()!;
            Assert.Equal("cuda", IoiBench.Saes.SaeFile.Load(directory).Config["ioibench"]!["training_device"]!.GetValue<string>());
            Assert.True(File.Exists(Path.Combine(directory, "checkpoints", "epoch-0001", "cfg.json")));
        }
    }
}
