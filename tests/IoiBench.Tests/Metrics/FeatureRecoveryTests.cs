using IoiBench.Edits;
using IoiBench.Metrics;
using IoiBench.Numerics;

namespace IoiBench.Tests.Metrics;

public class FeatureRecoveryTests
{
    [Fact]
    public void BestF1SplittingAndMaxCosineMatchHandComputedValues()
    {
        // Activity of 3 latents on 4 prompts: p0 (A) {0, 1}, p1 (A) {0, 1}, p2 (B) {1, 2}, p3 (B) {2}.
        // A: latent 0 F1 = 1 (P 1, R 1); latent 1: P 2/3, R 1 → F1 0.8; latent 2: P = R = 0 → NaN. Two latents ≥ 0.5.
        // B: latent 0: P = R = 0 → NaN; latent 1: P 1/3, R 1/2 → 0.4; latent 2: P 1, R 1 → 1. One latent ≥ 0.5.
        var latents = Tensor.From([1, 1, 0, 2, 3, 0, 0, 1, 1, 0, 0, 4], 4, 3);
        var f1 = F1Ranking.Fit(latents, ["A", "A", "B", "B"]);
        // Decoder rows (1, 0), (1, 1), (0, 2); u_A = (2, 0) → best cosine 1 (row 0); u_B = (0, −1) → best cosine 0 (row 0).
        var decoder = Tensor.From([1, 0, 1, 1, 0, 2], 3, 2);
        var rows = FeatureRecovery.Measure(f1, decoder, new Dictionary<string, float[]> { ["A"] = [2, 0], ["B"] = [0, -1] });
        Assert.Equal(["A", "B"], rows.Select(r => r.Value));
        Approx.Equal(1.0, rows[0].BestF1, 1e-12);
        Assert.Equal(2, rows[0].Splitting);
        Approx.Equal(1.0, rows[0].MaxCosine, 1e-6);
        Approx.Equal(1.0, rows[1].BestF1, 1e-12);
        Assert.Equal(1, rows[1].Splitting);
        Approx.Equal(0.0, rows[1].MaxCosine, 1e-6);
        Approx.Equal(0.4, f1.Scores["B"][1], 1e-12);
    }
}
