using IoiBench.Cuda;

namespace IoiBench.Saes;

/// <summary>
/// <see cref="AuxKTerm"/> on the GPU (topk.cu's kernels), for the variants with AuxK (top-k, BatchTopK, Matryoshka):
/// at each epoch's start, each SAE's dead latents, how many of them the term keeps (min(aux_k, dead)) and its weight;
/// in each step, the selection among the dead latents, their reconstruction of e = x − x̂ and its gradients.
/// </summary>
internal sealed class AuxKGpuTerm
{
    /// <summary>Widths up to which a row's selection is held in registers; wider SAEs scan (topk_activate_wide).</summary>
    public const int RegisterWidth = 1024;

    private readonly BatchedSaeTrainer _trainer;
    private readonly int _auxK;
    private readonly float _coefficient;
    private readonly bool _relu;
    private readonly DeviceArray<int> _dead, _counts, _selected;
    private readonly DeviceArray<float> _weights;

    private AuxKGpuTerm(BatchedSaeTrainer trainer, int auxK, float coefficient, bool relu)
    {
        (_trainer, _auxK, _coefficient, _relu) = (trainer, auxK, coefficient, relu);
        _dead = trainer.Allocate<int>((long)trainer.Saes * trainer.DSae);
        _counts = trainer.Allocate<int>(trainer.Saes);
        _weights = trainer.Allocate<float>(trainer.Saes);
        _selected = trainer.Allocate<int>((long)trainer.Saes * trainer.BatchSize * auxK);
    }

    /// <summary>The term for a group whose SAEs share <paramref name="auxK"/> (null when it is 0: no term).</summary>
    public static AuxKGpuTerm? For(BatchedSaeTrainer trainer, int auxK, float coefficient, bool relu) =>
        auxK > 0 ? new AuxKGpuTerm(trainer, auxK, coefficient, relu) : null;

    /// <summary>The selection kernel for the trainer's width.</summary>
    public static string SelectionKernel(int width) => width > RegisterWidth ? "topk_activate_wide" : "topk_activate";

    /// <summary>The registers topk_activate holds per lane at this width.</summary>
    public static string LatentSlots(int width) => $"LATENT_SLOTS={Math.Min((width + 31) / 32, RegisterWidth / 32)}";

    /// <summary>Whether any SAE of the group has dead latents this epoch (else the term adds nothing).</summary>
    public bool Active { get; private set; }

    /// <summary>Uploads each SAE's dead latents, as its CPU counterpart reads them, at an epoch's start.</summary>
    public void StartEpoch(Func<SparseAutoencoder, bool[]?> deadLatents)
    {
        var runs = _trainer.Runs;
        int width = _trainer.DSae;
        var dead = new int[runs.Count * width];
        var counts = new int[runs.Count];
        var weights = new float[runs.Count];
        for (int g = 0; g < runs.Count; g++)
        {
            if (deadLatents(runs[g].Sae) is not { } mask) continue;
            for (int j = 0; j < mask.Length; j++) dead[g * width + j] = mask[j] ? 1 : 0;
            int deadCount = mask.Count(d => d);
            counts[g] = Math.Min(_auxK, deadCount);
            weights[g] = deadCount == 0 ? 0 : _coefficient * Math.Min(deadCount / (float)_auxK, 1f);
        }
        _dead.Upload(dead);
        _counts.Upload(counts);
        _weights.Upload(weights);
        Active = counts.Any(c => c > 0);
    }

    /// <summary>
    /// Adds the term's weighted squared error to the auxiliary slot and its gradient into ∂/∂W_dec and (at the kept dead
    /// latents) into <paramref name="dLatents"/>, from the pre-activations (<paramref name="bias"/> added when not 0) and
    /// the main residual (x̂ − x)·<paramref name="residualScale"/>.
    /// </summary>
    public void Run(ulong pre, ulong bias, ulong residual, float residualScale, ulong dLatents, int rows)
    {
        var t = _trainer;
        ulong latents = t.Buffer("auxLatents", (long)rows * t.DSae), difference = t.Buffer("auxDifference", (long)rows * t.DIn);
        t.LaunchPerRow(SelectionKernel(t.DSae), rows, pre, bias, _dead.Pointer, latents, _counts.Pointer, _selected.Pointer, _auxK, 0UL, 0UL,
            _relu ? 1 : 0, rows, t.DSae, t.Saes);
        t.LaunchPerRow("topk_auxk_difference", rows, latents, _selected.Pointer, _counts.Pointer, _auxK, t.Parameter("W_dec"), residual,
            residualScale, _weights.Pointer, difference, t.Stats, rows, t.DIn, t.DSae, t.Saes);
        t.Product(latents, true, difference, false, t.Gradient("W_dec"), t.DSae, t.DIn, rows, beta: 1f);
        t.LaunchPerRow("topk_latent_gradients", rows, difference, t.Parameter("W_dec"), latents, _selected.Pointer, _counts.Pointer, _auxK,
            dLatents, 1, rows, t.DIn, t.DSae, t.Saes);
    }
}
