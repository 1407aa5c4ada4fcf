using IoiBench.Numerics;

namespace IoiBench.Saes;

/// <summary>Settings of one training run: batch size, epochs, learning rate and the seed of the epoch shuffles.</summary>
public sealed record TrainingOptions(int BatchSize = 512, int Epochs = 100, float LearningRate = 3e-4f, ulong Seed = 0)
{
    /// <summary>Constant, then linear decay to 0 over the last quarter of the epochs (the intended reference schedule).</summary>
    public float LearningRateAt(int epoch)
    {
        int decayStart = Epochs - Epochs / 4;
        return epoch < decayStart ? LearningRate : LearningRate * (Epochs - epoch) / (float)(Epochs - decayStart);
    }
}

/// <summary>What one epoch measured (means over its batches).</summary>
public sealed record EpochMetrics(int Epoch, double Loss, double Reconstruction, double L0, double FractionDead);

/// <summary>Trains one SAE with Adam on rows of a [n, d_in] tensor, reshuffled every epoch.</summary>
public static class SaeTrainer
{
    public static List<EpochMetrics> Train(SparseAutoencoder sae, Tensor data, TrainingOptions options, IProgress<ProgressUpdate>? progress = null)
    {
        int n = data.Shape[0], d = data.Shape[1];
        var optimizer = new Adam(sae.Parameters);
        var gradients = sae.Parameters.ZerosLike();
        var rng = new DeterministicRandom(options.Seed, stream: 0x5AE);
        var order = Enumerable.Range(0, n).ToArray();
        var history = new List<EpochMetrics>();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            for (int i = n - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            float lr = options.LearningRateAt(epoch);
            var fired = new bool[sae.DSae];
            double loss = 0, reconstruction = 0, l0 = 0;
            int batches = 0;
            for (int start = 0; start < n; start += options.BatchSize)
            {
                int size = Math.Min(options.BatchSize, n - start);
                var batch = new Tensor(size, d);
                for (int r = 0; r < size; r++) data.Row(order[start + r]).CopyTo(batch.Row(r));
                gradients.Clear();
                var result = sae.Loss(batch, gradients);
                optimizer.Step(gradients, lr);
                sae.AfterStep();
                // The loss's latents come from the parameters before this step, as every batch metric here does.
                var latents = result.Latents;
                for (int r = 0; r < size; r++)
                {
                    var row = latents.Row(r);
                    for (int j = 0; j < sae.DSae; j++) fired[j] |= row[j] != 0;
                }
                loss += result.Total; reconstruction += result.Reconstruction; l0 += result.L0;
                batches++;
            }
            history.Add(new EpochMetrics(epoch + 1, loss / batches, reconstruction / batches, l0 / batches, fired.Count(f => !f) / (double)sae.DSae));
            progress?.Report(new ProgressUpdate("training SAE", epoch + 1, options.Epochs));
        }
        return history;
    }
}
