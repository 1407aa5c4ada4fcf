using IoiBench.Gpu;
using IoiBench.Tests.Cli;

namespace IoiBench.Tests.Gpu;

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
        Assert.Equal(1, code);
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

    [GpuFact]
    public void OnAGpuEveryCheckPassesAgainstTheCpu()
    {
        var checks = CudaSelfTest.Run();
        Assert.True(CudaSelfTest.Usable(checks), string.Join("\n", checks.Select(c => $"{c.Component}: {c.Detail}")));
    }
}
