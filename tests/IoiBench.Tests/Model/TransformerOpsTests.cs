using IoiBench.Model;
using IoiBench.Numerics;

namespace IoiBench.Tests.Model;

public class TransformerOpsTests
{
    [Fact]
    public void SoftMaxIsStableForLargeScores()
    {
        var output = new float[3];
        TransformerOps.SoftMax([100f, 0f, 95f], output);
        double z = 1 + Math.Exp(-100) + Math.Exp(-5);
        Approx.Equal(1 / z, output[0], 1e-6);
        Approx.Equal(Math.Exp(-100) / z, output[1], 1e-6);
        Approx.Equal(Math.Exp(-5) / z, output[2], 1e-6);
    }

    [Fact]
    public void GeluNewMatchesItsFormula()
    {
        float[] x = [-3f, -0.5f, 0f, 0.7f, 4f];
        float[] y = [.. x, 2f];
        TransformerOps.GeluNew(y, x.Length);
        for (int i = 0; i < x.Length; i++)
            Approx.Equal(0.5 * x[i] * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x[i] + 0.044715 * Math.Pow(x[i], 3)))), y[i], 1e-6);
        Assert.Equal(2f, y[^1]);   // past the count: untouched
    }

    [Fact]
    public void LayerNormNormalisesThenScalesAndShifts()
    {
        var output = new float[4];
        TransformerOps.LayerNorm([1f, 2f, 3f, 6f], new LayerNormParams(Tensor.From([1f, 2f, 1f, 1f], 4), Tensor.From([0f, 0f, 1f, 0f], 4)), 0f, output);
        // mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
        double sd = Math.Sqrt(3.5);
        Approx.Equal(-2 / sd, output[0], 1e-6);
        Approx.Equal(2 * -1 / sd, output[1], 1e-6);
        Approx.Equal(1, output[2], 1e-6);
        Approx.Equal(3 / sd, output[3], 1e-6);
    }
}
