using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.Tests.Saes;

/// <summary>JumpReLU's loss and its straight-through threshold gradient, by hand.</summary>
public class JumpReluTests
{
    /// <summary>
    /// d_in = d_sae = 1, W_enc = W_dec = 1, zero biases, θ = 1 (log θ = 0), ε = 0.5, λ = 0.25, batch x = (1.1, 0.9, 3).
    /// f = (1.1, 0, 3): one latent open twice, so L0 = 2/3; x̂ − x = (0, −0.9, 0), reconstruction 0.81 / 3 = 0.27.
    /// ∂L/∂f = (2/3)(0, −0.9, 0) = (0, −0.6, 0). (pre − θ)/ε = (0.2, −0.2, 4): the first two are in the kernel's window,
    /// each adding −(θ/ε)·∂L/∂f − λ/(B·ε): −1/6 and 1.2 − 1/6, so ∂L/∂θ = 13/15 and ∂L/∂log θ = θ·13/15.
    /// </summary>
    [Fact]
    public void LossAndThresholdGradientByHand()
    {
        var sae = new JumpReluSae(1, 1, l0Coefficient: 0.25f, new DeterministicRandom(0), bandwidth: 0.5f, initialThreshold: 1f);
        sae.Parameters["W_enc"].Span[0] = 1;
        sae.Parameters["W_dec"].Span[0] = 1;
        var x = Tensor.From([1.1f, 0.9f, 3], 3, 1);
        var gradients = sae.Parameters.ZerosLike();
        var loss = sae.Loss(x, gradients);
        Approx.Equal(0.27, loss.Reconstruction, 1e-6);
        Approx.Equal(2.0 / 3, loss.L0, 1e-12);
        Approx.Equal(0.27 + 0.25 * 2 / 3, loss.Total, 1e-6);
        Assert.Equal([1.1f, 0, 3], loss.Latents.Span.ToArray());
        Approx.Equal(13.0 / 15, gradients["log_threshold"].Span[0], 1e-6);
        // pre passes ∂L/∂f where the latent is open only (the −0.6 of the closed example is dropped).
        Approx.Equal(0.0, gradients["b_enc"].Span[0], 1e-7);
    }

    [Fact]
    public void FilesHoldTheThresholdAsSaeLensDoesAndLoadBackExactly()
    {
        using var dir = new TestPaths.TempDirectory();
        var sae = new JumpReluSae(3, 4, 0.5f, new DeterministicRandom(1));
        float[] logs = [-4.6f, -1.25f, 0.3f, 2.7f];
        logs.CopyTo(sae.Parameters["log_threshold"].Span);
        SaeFile.Save(dir.Path, sae, new SaeFile.Metadata("m", "z@0.0@end", 0, 0, "blocks.0.attn.hook_z", 1f));
        using (var weights = IoiBench.IO.SafeTensorsFile.Open(dir.File(SaeFile.WeightsFile)))
        {
            Assert.False(weights.Contains("log_threshold"));
            Assert.Equal(logs.Select(MathF.Exp), weights.ReadFloat32("threshold").Span.ToArray());
        }
        var (loaded, cfg) = SaeFile.Load(dir.Path);
        Assert.Equal("jumprelu", cfg["architecture"]!.GetValue<string>());
        Assert.Equal(((JumpReluSae)sae).Thresholds(), ((JumpReluSae)loaded).Thresholds());
    }
}
