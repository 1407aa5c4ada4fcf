using IoiBench.Numerics;
using IoiBench.Sites;

namespace IoiBench.Metrics;

/// <summary>
/// How reconstructions of some nodes disturb the model, against random points just as far from the originals.
/// KL: KL(clean ‖ patched) of the next-token distribution, nats; LdChange: |LD_patched − LD_clean|; both means over
/// prompts with bootstrap intervals. The ratios are reconstruction over random (ratio of the means): above 1, the
/// reconstruction error moves the model more than noise of its size. RelativeError: mean over nodes and prompts of
/// ‖a − â‖ / ‖a‖.
/// </summary>
public sealed record Pathology(Estimate KlReconstruction, Estimate KlRandom, double KlRatio,
    Estimate LdChangeReconstruction, Estimate LdChangeRandom, double LdChangeRatio, double RelativeError);

/// <summary>
/// Error pathology (Gurnee 2024, "SAE reconstruction errors are (empirically) pathological"): does replacing
/// activations by their reconstructions change the model's output more than moving them the same distance at random?
/// </summary>

public static class ErrorPathology
{
    /// <summary>
    /// Patches every node of the scope with its reconstruction, then with the ε-random points, and compares both runs
    /// with the clean one. Each node's random directions come from its own stream of <paramref name="seed"/>, so every
    /// method meets the same directions, scaled to its own error. <paramref name="progress"/> counts the two runs' prompts.
    /// </summary>
    public static Pathology Measure(NextTokenComparison comparison, IReadOnlyDictionary<SiteNode, (Tensor Original, Tensor Reconstruction)> nodes,
        ulong seed, IProgress<ProgressUpdate>? progress = null)
    {
        var reconstructions = nodes.ToDictionary(n => n.Key, n => n.Value.Reconstruction);
        var random = nodes.ToDictionary(n => n.Key, n => RandomAtSameDistance(n.Value.Original, n.Value.Reconstruction, new DeterministicRandom(seed, StreamOf(n.Key))));
        var runs = new StageProgress(progress, "error pathology", 2L * comparison.Prompts);
        var (klReconstruction, ldReconstruction) = comparison.Compare(reconstructions, runs.Step("reconstruction", comparison.Prompts));
        var (klRandom, ldRandom) = comparison.Compare(random, runs.Step("ε-random", comparison.Prompts));
        runs.Finish();
        var relative = nodes.Values.Average(n => Enumerable.Range(0, n.Original.Shape[0]).Average(p =>
            System.Numerics.Tensors.TensorPrimitives.Distance(n.Original.Row(p), n.Reconstruction.Row(p)) /
            (double)System.Numerics.Tensors.TensorPrimitives.Norm(n.Original.Row(p))));
        var klR = Bootstrap.Mean(klReconstruction, seed: seed);
        var klE = Bootstrap.Mean(klRandom, seed: seed);
        var ldR = Bootstrap.Mean([.. ldReconstruction.Select(Math.Abs)], seed: seed);
        var ldE = Bootstrap.Mean([.. ldRandom.Select(Math.Abs)], seed: seed);
        return new Pathology(klR, klE, klR.Mean / klE.Mean, ldR, ldE, ldR.Mean / ldE.Mean, relative);
    }

    /// <summary>
    /// ε-random: per row, a + ‖a − â‖·u with u uniform on the unit sphere (a normalised Gaussian), the same distance from
    /// the original as the reconstruction but in a random direction.
    /// </summary>
    public static Tensor RandomAtSameDistance(Tensor original, Tensor reconstruction, DeterministicRandom random)
    {
        var result = original.Clone();
        var direction = new float[original.Shape[1]];
        for (int p = 0; p < original.Shape[0]; p++)
        {
            for (int i = 0; i < direction.Length; i++) direction[i] = (float)random.NextGaussian();
            float distance = System.Numerics.Tensors.TensorPrimitives.Distance(original.Row(p), reconstruction.Row(p));
            float scale = distance / System.Numerics.Tensors.TensorPrimitives.Norm(direction);
            var row = result.Row(p);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(direction, scale, row, row);
        }
        return result;
    }

    /// <summary>A node's random stream: FNV-1a of its name, stable across runs and platforms.</summary>
    private static ulong StreamOf(SiteNode node)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in node.ToString()) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }
}
