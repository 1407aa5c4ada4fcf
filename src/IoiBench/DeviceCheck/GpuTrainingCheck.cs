using IoiBench.Cuda;
using IoiBench.Numerics;
using IoiBench.Saes;

namespace IoiBench.DeviceCheck;

/// <summary>
/// Trains the same SAEs from the same initialisation on the CPU (<see cref="SaeTrainingRun.RunEpoch"/>) and on the GPU
/// (<see cref="BatchedSaeTrainer"/>) and measures how far apart they end: the check that the GPU trainer implements
/// the CPU's math. Four epochs of 600 examples at batch 128 (the last batch short), two nodes, a resample after
/// epoch 2 with a one-epoch warm-up: every code path of a sweep, in 20 Adam steps.
/// </summary>
internal static class GpuTrainingCheck
{
    private const int DIn = 16, Width = 64, Examples = 600, Nodes = 2;

    private static readonly TrainingOptions Options = new(BatchSize: 128, Epochs: 4, LearningRate: 1e-3f)
    {
        ResampleAfterEpochs = [1],
        WarmupEpochs = 1,
    };

    /// <summary>
    /// The largest differences between the two backends over all SAEs: parameters (absolute; Adam moves each by at most
    /// about the learning rate per step, 0.02 in all), epoch losses (relative), and whether every epoch resampled the
    /// same number of latents.
    /// </summary>
    public sealed record Difference(double Parameters, double Loss, bool SameResamples, string Worst)
    {
        /// <summary>Within float32 rounding carried through 20 steps: 1e-4 of a parameter, 1e-4 of a loss.</summary>
        public bool Agrees => Parameters <= 1e-4 && Loss <= 1e-4 && SameResamples;
    }

    /// <summary>
    /// The SAE settings checked: every registered variant's <see cref="SaeVariant.DeviceChecks"/> (its defaults and its
    /// other forms, such as the reference's variants of makelov2024, labelled "-ref").
    /// </summary>
    public static IReadOnlyList<DeviceCheckCase> Cases => [.. SaeVariants.All.SelectMany(v => v.DeviceChecks)];

    public static Difference Compare(CudaDevice device, DeviceCheckCase check)
    {
        var specs = check.Specs;
        var data = Enumerable.Range(0, Nodes).Select(node => SparseData(new DeterministicRandom(100, (ulong)node))).ToArray();
        List<SaeTrainingRun> Runs() =>
        [
            .. from node in Enumerable.Range(0, Nodes)
               from s in Enumerable.Range(0, specs.Length)
               select new SaeTrainingRun(specs[s].Create(DIn, check.Width, new DeterministicRandom(7, (ulong)(node * specs.Length + s))),
                   data[node], Options with { Seed = (ulong)node }),
        ];
        var cpu = Runs();
        foreach (var run in cpu)
            while (!run.Finished) run.RunEpoch();
        var gpu = Runs();
        using (var trainer = new BatchedSaeTrainer(device, gpu))
        {
            while (!gpu[0].Finished) trainer.RunEpoch();
            trainer.CopyToHost();
        }

        double parameters = 0, loss = 0;
        bool sameResamples = true;
        string worstEpochs = "", worstParameter = "";
        for (int i = 0; i < cpu.Count; i++)
        {
            foreach (var (name, expected) in cpu[i].Sae.Parameters.Tensors)
            {
                var actual = gpu[i].Sae.Parameters[name].Span;
                for (int j = 0; j < actual.Length; j++)
                {
                    double difference = Math.Abs(actual[j] - expected.Span[j]);
                    if (difference > parameters) worstParameter = $"{name}[{j}] of SAE {i}";
                    parameters = Math.Max(parameters, difference);
                }
            }
            foreach (var (c, g) in cpu[i].History.Zip(gpu[i].History))
            {
                double relative = Math.Abs(c.Loss - g.Loss) / Math.Max(Math.Abs(c.Loss), 1e-12);
                if (relative > loss)
                    worstEpochs = $"epoch {c.Epoch} of SAE {i}: CPU loss {c.Loss:G6} = mse {c.Reconstruction:G6} + sparsity {c.Sparsity:G6}, L0 {c.L0:G4}; " +
                                  $"GPU loss {g.Loss:G6} = mse {g.Reconstruction:G6} + sparsity {g.Sparsity:G6}, L0 {g.L0:G4}";
                loss = Math.Max(loss, relative);
                sameResamples &= c.Resampled == g.Resampled;
            }
        }
        return new Difference(parameters, loss, sameResamples, $"parameter {worstParameter}; {worstEpochs}");
    }

    /// <summary>
    /// A whole sweep (<see cref="SaeSweep.Run"/>) of one SAE per variant (its first device check's) on two nodes, trained on the CPU and on the GPU
    /// into temporary directories: the same files (checkpoints, SAEs, metrics), and the largest difference between their
    /// final parameters. This covers what the sweep adds on the GPU: grouping by variant, resampling through the host,
    /// checkpoints and the final files.
    /// </summary>
    public static (double Parameters, bool SameFiles) CompareSweep()
    {
        var nodes = new[] { Sites.SiteNode.Parse("z@0.0@end"), Sites.SiteNode.Parse("z@0.1@end") };
        Activations.SiteActivations Split(ulong seed) => new(nodes, Examples, nodes.Select((node, i) =>
            KeyValuePair.Create(Activations.PromptVariants.Key(Activations.PromptVariant.Clean, node), SparseData(new DeterministicRandom(seed, (ulong)i))))
            .ToDictionary());
        var preset = new TrainingPreset("gpu-check", Width,
            [.. SaeVariants.All.Select(v => v.DeviceChecks[0].Specs[0])],
            Options with { Checkpoints = [1, 2, 4] });
        var (train, test) = (Split(1), Split(2));
        string root = Path.Combine(Path.GetTempPath(), $"ioibench-gpu-check-{Environment.ProcessId}");
        try
        {
            var cpu = SaeSweep.Run(preset, train, test, Path.Combine(root, "cpu"), "check");
            var gpu = SaeSweep.Run(preset, train, test, Path.Combine(root, "gpu"), "check", device: ComputeDevice.Cuda);
            double parameters = 0;
            foreach (var (c, g) in cpu.Zip(gpu))
            {
                // What the files hold: parameters and what inference needs (BatchTopK's threshold, estimated after training).
                var (cpuSae, gpuSae) = (SaeFile.Load(c.Directory).Sae, SaeFile.Load(g.Directory).Sae);
                var (expected, actual) = (cpuSae.Variant.FileTensors(cpuSae), gpuSae.Variant.FileTensors(gpuSae));
                foreach (var (name, tensor) in expected)
                    for (int j = 0; j < tensor.Length; j++) parameters = Math.Max(parameters, Math.Abs(tensor.Span[j] - actual[name].Span[j]));
            }
            IEnumerable<string> Files(string directory) =>
                Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order();
            return (parameters, Files(Path.Combine(root, "cpu")).SequenceEqual(Files(Path.Combine(root, "gpu"))));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Rows that are sparse sums of a few of 32 random directions: latents die and resampling has work to do.</summary>
    private static Tensor SparseData(DeterministicRandom rng)
    {
        var directions = new Tensor(32, DIn);
        for (int i = 0; i < directions.Length; i++) directions.Span[i] = (float)rng.NextGaussian();
        var data = new Tensor(Examples, DIn);
        for (int r = 0; r < Examples; r++)
            for (int f = 0; f < directions.Shape[0]; f++)
            {
                if (rng.NextDouble() >= 0.1) continue;
                float weight = (float)(1 + rng.NextDouble());
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(directions.Row(f), weight, data.Row(r), data.Row(r));
            }
        return data;
    }
}
