namespace IoiBench.Saes;

/// <summary>
/// One variant's part of a GPU training step (<see cref="BatchedSaeTrainer"/>): from the batch x and its centred copy
/// x − b_dec, every SAE's forward pass, loss statistics (into the trainer's stats slots) and gradients (into the
/// trainer's gradient buffers), with the trainer's shared operations and the variant's own kernels
/// (<see cref="SaeVariant.KernelFile"/>, compiled after sae_common.cu). The trainer then takes the Adam step.
/// </summary>
internal abstract class BatchedStep(BatchedSaeTrainer trainer)
{
    protected BatchedSaeTrainer Trainer => trainer;

    /// <summary>Preprocessor definitions the kernels are compiled with (sizes they unroll over).</summary>
    public virtual string[] Defines => [];

    /// <summary>Whether decoder rows are renormalised to unit length after every step.</summary>
    public virtual bool NormalisesDecoder => true;

    /// <summary>Before an epoch's batches: per-epoch inputs from the host (e.g. the latents dead in the last epoch).</summary>
    public virtual void StartEpoch() { }

    /// <summary>The forward pass, statistics and gradients of one batch of <paramref name="rows"/> rows.</summary>
    public abstract void Run(ulong x, ulong centred, int rows);

    /// <summary>
    /// An epoch's total loss and its sparsity term from the summed statistics (reconstruction, sparsity, auxiliary), as
    /// the CPU SAE's <see cref="SaeLoss"/> adds them: by default reconstruction + λ·sparsity + auxiliary.
    /// </summary>
    public virtual (double Loss, double Sparsity) Totals(double reconstruction, double sparsity, double auxiliary, float lambda) =>
        (reconstruction + lambda * sparsity + auxiliary, sparsity);

    /// <summary>The options every run of the group shares (the trainer groups runs by them).</summary>
    protected static T Shared<T>(BatchedSaeTrainer trainer, Func<SparseAutoencoder, T> option)
    {
        var value = option(trainer.Runs[0].Sae);
        if (trainer.Runs.Any(r => !EqualityComparer<T>.Default.Equals(option(r.Sae), value)))
            throw new ArgumentException("runs trained together must share their variant's options.");
        return value;
    }
}
