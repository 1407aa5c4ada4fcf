namespace IoiBench;

/// <summary>
/// Where the work runs: the CPU, or an NVIDIA GPU through CUDA (<see cref="Gpu.CudaDevice"/>), which runs GPT-2's
/// forward passes (<see cref="CudaGpt2Model"/>) and trains many SAEs in lockstep (<see cref="Gpu.BatchedSaeTrainer"/>).
/// Both give the same results within float32 rounding.
/// </summary>
public enum ComputeDevice { Cpu, Cuda }

public static class ComputeDevices
{
    /// <summary>The device's name in files and on the command line: "cpu" or "cuda".</summary>
    public static string Name(this ComputeDevice device) => device.ToString().ToLowerInvariant();
}
