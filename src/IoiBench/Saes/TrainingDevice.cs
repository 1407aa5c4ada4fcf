namespace IoiBench.Saes;

/// <summary>
/// Where SAEs train: on the CPU, one SAE per core; or on an NVIDIA GPU through CUDA, many SAEs in lockstep
/// (<see cref="Gpu.BatchedSaeTrainer"/>). Both run the same runs, batches and schedule.
/// </summary>
public enum TrainingDevice { Cpu, Cuda }

public static class TrainingDevices
{
    /// <summary>The device's name in files and on the command line: "cpu" or "cuda".</summary>
    public static string Name(this TrainingDevice device) => device.ToString().ToLowerInvariant();
}
