namespace IoiBench.Runs;

/// <summary>
/// Where a run came from: enough to tell whether two runs are comparable. <see cref="SaeTraining"/>: where its SAEs
/// were trained ("cpu", "cuda", both joined by " and ", or "unknown" for SAEs saved before this was recorded).
/// </summary>
public sealed record RunProvenance(string RunId, string Model, string ModelHash, string DatasetHash, ulong Seed, string Preset, string PresetHash,
    string Selection, string Version, DateTimeOffset Finished, string SaeTraining)
{
    /// <summary>The basis the run's activations were read in (<see cref="Model.ModelBasis"/>'s name).</summary>
    public string Basis { get; init; } = "processed";
}

/// <summary>
/// An SAE a run scored from a folder: its leaderboard name, format, training hook and basis, folder, the hash of its
/// files, and the nodes it read (none: it matched no node and is listed among the excluded).
/// </summary>
public sealed record ImportedSaeRecord(string Name, string Format, string Hook, string Basis, string Directory, string FileHash,
    IReadOnlyList<string> Nodes);

/// <summary>An SAE a run could not use, and why (e.g. it diverged in training); Sae "*" stands for all of a variant's.</summary>
public sealed record ExcludedSae(string Node, string Variant, string Sae, string Reason);

/// <summary>Everything a run measured: what run.json holds and every report is drawn from.</summary>
public sealed record RunResults(RunProvenance Provenance, IReadOnlyList<EditResult> Edits, IReadOnlyList<NodeSelection> Selections,
    IReadOnlyList<PathologyResult> Pathology, IReadOnlyList<ProbeResult> Probes, IReadOnlyList<RecoveryResult> Recovery)
{
    /// <summary>SAEs left out of selection, each with its reason.</summary>
    public IReadOnlyList<ExcludedSae> Excluded { get; init; } = [];

    /// <summary>The SAEs the run read from folders rather than trained.</summary>
    public IReadOnlyList<ImportedSaeRecord> Imported { get; init; } = [];

    /// <summary>The preset's training seeds. <see cref="Edits"/> and every readout use the first seed's SAEs.</summary>
    public IReadOnlyList<ulong> Seeds { get; init; } = [0];

    /// <summary>The sites file's cross-sections the run edited, with their nodes (empty in files written before it was kept).</summary>
    public IReadOnlyList<Sites.CrossSection> CrossSections { get; init; } = [];

    /// <summary>The supervised dictionary's quality at every node of the sites file.</summary>
    public IReadOnlyList<DictionaryQuality> Dictionaries { get; init; } = [];

    /// <summary>What DAS's training cost and reached at each cross-section (the "das" rows of <see cref="Edits"/>).</summary>
    public IReadOnlyList<DasTrainingRecord> DasTraining { get; init; } = [];

    /// <summary>Each node of the cross-sections of several nodes edited alone (see <see cref="NodeEditResult"/>).</summary>
    public IReadOnlyList<NodeEditResult> NodeEdits { get; init; } = [];

    /// <summary>The SAE edit rows of every seed but the first, for the seed spread (<see cref="SeedSpread"/>).</summary>
    public IReadOnlyList<EditResult> SeedEdits { get; init; } = [];

    /// <summary>
    /// The representation an edit row's readouts belong to: "supervised", the SAE variant of an SAE edit, or null for
    /// the baselines (no intervention, counterfactual patch).
    /// </summary>
    public static string? RepresentationOf(EditResult edit) => edit.Method switch
    {
        "supervised" => "supervised",
        "agnostic" or "aware" => edit.Variant,
        _ => null,
    };

    public PathologyResult? CrossSectionPathology(string crossSection, string method) =>
        Pathology.FirstOrDefault(p => p.Kind == ScopeKind.CrossSection && p.Scope == crossSection && p.Method == method);

    public ProbeResult? CrossSectionProbe(string crossSection, string method, int? k) =>
        Probes.FirstOrDefault(p => p.Kind == ScopeKind.CrossSection && p.Scope == crossSection && p.Method == method && p.K == k);

    public IReadOnlyList<RecoveryResult> CrossSectionRecovery(string crossSection, string variant) =>
        [.. Recovery.Where(r => r.Kind == ScopeKind.CrossSection && r.Scope == crossSection && r.Variant == variant)];
}
