using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>Trains one SAE with Adam on rows of a [n, d_in] tensor, reshuffled every epoch (see <see cref="SaeTrainingRun"/>).</summary>
public static class SaeTrainer
{
    public static IReadOnlyList<EpochMetrics> Train(SparseAutoencoder sae, Tensor data, TrainingOptions options, IProgress<ProgressUpdate>? progress = null)
    {
        var run = new SaeTrainingRun(sae, data, options);
        while (!run.Finished)
        {
            run.RunEpoch();
            progress?.Report(new ProgressUpdate("training SAE", run.EpochsDone, options.Epochs));
        }
        return run.History;
    }
}
