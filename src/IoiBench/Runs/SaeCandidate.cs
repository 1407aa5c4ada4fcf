using IoiBench.Saes;

namespace IoiBench.Runs;

/// <summary>
/// An SAE a node's edits may use: one (λ or k, checkpoint) of one variant and training seed, with its activation scale.
/// <see cref="Value"/> is its λ or k; <see cref="Final"/> says whether it is the SAE at the end of training (not a
/// checkpoint); <see cref="TrainingL0"/> is its training epoch's mean L0.
/// </summary>
public sealed record SaeCandidate(string Variant, string Name, int Epoch, string Directory, SparseAutoencoder Sae, float Scale)
{
    /// <summary>The seed its SAE was trained with.</summary>
    public ulong Seed { get; init; }
    public float Value { get; init; }
    public bool Final { get; init; }
    public double TrainingL0 { get; init; } = double.NaN;

    /// <summary>The latents of raw-scale activations (the SAE reads them divided by its scale).</summary>
    public Numerics.Tensor Latents(Numerics.Tensor raw) => Sae.Encode(ActivationScale.Apply(raw, Scale));

    /// <summary>The reconstruction from <see cref="Latents"/>, back in the raw scale.</summary>
    public Numerics.Tensor Reconstruction(Numerics.Tensor latents) => ActivationScale.Undo(Sae.Decode(latents), Scale);

    /// <summary>Every checkpoint and the final SAE of each SAE a sweep trained for one node (a diverged SAE: its checkpoints).</summary>
    public static List<SaeCandidate> FromSweep(IEnumerable<SaeSweep.Result> results) =>
        [.. results.SelectMany(r =>
        {
            string checkpoints = Path.Combine(r.Directory, "checkpoints");
            var directories = System.IO.Directory.Exists(checkpoints) ? System.IO.Directory.GetDirectories(checkpoints).Order(StringComparer.Ordinal).ToList() : [];
            if (r.DivergedAt is null) directories.Add(r.Directory);   // a diverged SAE has only its earlier checkpoints
            return directories.Select(directory =>
            {
                var (sae, cfg) = SaeFile.Load(directory);
                float scale = cfg["ioibench"]?["activation_scale"]?.GetValue<float>()
                              ?? throw new InvalidInputException($"{directory}/{SaeFile.ConfigFile}: no ioibench.activation_scale.");
                int epoch = cfg["ioibench"]?["epoch"]?.GetValue<int>() ?? r.LastEpoch.Epoch;
                return new SaeCandidate(r.Spec.Variant, r.Name, epoch, directory, sae, scale)
                {
                    Seed = r.Seed, Value = r.Spec.Value, Final = directory == r.Directory,
                    TrainingL0 = epoch <= r.History.Count ? r.History[epoch - 1].L0 : double.NaN,
                };
            });
        })];
}
