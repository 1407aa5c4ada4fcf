using IoiBench.Numerics;

namespace IoiBench.Probing;

/// <summary>What a probe predicted: its train accuracy, and per test example 1 if right, else 0.</summary>
public sealed record ProbeOutcome(double TrainAccuracy, double[] TestCorrect);

/// <summary>
/// Sparse probing (Gurnee et al. 2023): score the features by how well each alone separates the classes on the train
/// examples, keep the best k, fit a logistic-regression probe on them, and score it on held-out examples.
/// </summary>
public static class SparseProbe
{
    /// <summary>
    /// How well each feature column alone separates the classes: the one-way ANOVA ratio of between-class to
    /// within-class sum of squares, SSB / SSW (the F statistic without its constant degrees-of-freedom factor). A column
    /// with no within-class spread scores +∞ if it varies between classes and 0 if it is constant.
    /// </summary>
    public static double[] SeparationScores(Tensor features, IReadOnlyList<int> labels, int classes)
    {
        int n = features.Shape[0], d = features.Shape[1];
        var counts = new int[classes];
        var classSums = new double[classes * d];
        var total = new double[d];
        var squares = new double[d];
        for (int p = 0; p < n; p++)
        {
            var row = features.Row(p);
            int c = labels[p];
            counts[c]++;
            for (int j = 0; j < d; j++)
            {
                double v = row[j];
                classSums[c * d + j] += v; total[j] += v; squares[j] += v * v;
            }
        }
        var scores = new double[d];
        for (int j = 0; j < d; j++)
        {
            double explained = 0;   // Σ_c n_c·m_c², so SSB = explained − n·m² and SSW = Σx² − explained
            for (int c = 0; c < classes; c++)
                if (counts[c] > 0) explained += classSums[c * d + j] * classSums[c * d + j] / counts[c];
            double between = Math.Max(explained - total[j] * total[j] / n, 0), within = Math.Max(squares[j] - explained, 0);
            double scale = Math.Max(squares[j], 1e-300);
            scores[j] = within <= 1e-12 * scale ? (between > 1e-12 * scale ? double.PositiveInfinity : 0) : between / within;
        }
        return scores;
    }

    /// <summary>The indices of the <paramref name="k"/> highest scores, best first; ties go to the lower index.</summary>
    public static int[] Best(IReadOnlyList<double> scores, int k) =>
        [.. Enumerable.Range(0, scores.Count).OrderByDescending(j => scores[j]).ThenBy(j => j).Take(k)];

    /// <summary>Fits a probe on the train features and scores it on the test features (unseen test labels: −1).</summary>
    public static ProbeOutcome Fit(Tensor train, IReadOnlyList<int> trainLabels, Tensor test, IReadOnlyList<int> testLabels, int classes, double l2,
        int maxIterations = 300, double tolerance = 1e-5)
    {
        var probe = LogisticRegression.Fit(train, trainLabels, classes, l2, maxIterations, tolerance);
        var trainPredicted = probe.Predict(train);
        var testPredicted = probe.Predict(test);
        double trainAccuracy = trainPredicted.Where((c, p) => c == trainLabels[p]).Count() / (double)trainPredicted.Length;
        return new ProbeOutcome(trainAccuracy, [.. testPredicted.Select((c, p) => c == testLabels[p] ? 1.0 : 0.0)]);
    }
}
