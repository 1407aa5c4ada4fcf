namespace IoiBench.Runs;

/// <summary>
/// How SAEs are chosen for the edits (docs/method.md, "Selection"). <see cref="Validation"/>: per node, attribute and
/// variant, any λ or k and checkpoint, by the agnostic edits' distance to the counterfactual on the validation split,
/// the one SAE serving both edit types. <see cref="Oracle"/>: the same on the test split. <see cref="Reference"/>: as
/// the reference's figures: on the test split, final SAEs only, top-k at its smallest k, and each edit type with its
/// own SAE chosen by its own edits' distance; with it come the reference's smaller conventions (see
/// <see cref="EditOptions.ReferenceConventions"/>).
/// </summary>
public enum SelectionRule { Validation, Oracle, Reference }

/// <summary>The split the aware edit's F1 rankings are computed on: train (every counterfactual name occurs there) or test (the reference's).</summary>
public enum F1Split { Train, Test }

/// <summary>The two SAE edits: the greedy interpretation-agnostic one and the F1-ranked interpretation-aware one.</summary>
public enum EditType { Agnostic, Aware }

/// <summary>
/// How edits are made, selected and scored (docs/method.md). LdPrompts: how many prompts of the selection split
/// measure each candidate SAE's logit difference recovered (one forward pass per candidate, so a subset; null: all).
/// </summary>
public sealed record EditOptions(int AgnosticLatents = 2, int AwareLatents = 1, SelectionRule Selection = SelectionRule.Validation, ulong Seed = 0,
    int? LdPrompts = 500, F1Split F1Split = F1Split.Train)
{
    /// <summary>The subspace baselines' dimension n (DiffMean always has one direction).</summary>
    public int BaselineDimensions { get; init; } = 2;

    /// <summary>The random subspaces drawn per node; the random baseline's row is their mean.</summary>
    public int RandomDraws { get; init; } = 3;

    /// <summary>Train prompts the PCA and probe baselines are fitted on (the first ones of the split).</summary>
    public int BaselineTrain { get; init; } = 5000;

    /// <summary>Train prompts DAS learns its subspaces on (the first ones of the split).</summary>
    public int DasTrain { get; init; } = 1024;

    /// <summary>Train prompts DAS stops early on (the last ones of the split, apart from those it learns on).</summary>
    public int DasValidation { get; init; } = 256;

    /// <summary>
    /// Test prompts (the first ones) each node of a cross-section of several is edited alone on; 0: none. A subset,
    /// because each node takes two runs and two more per SAE variant.
    /// </summary>
    public int NodeEditPrompts { get; init; } = 1000;

    /// <summary>Prompts per DAS optimiser step.</summary>
    public int DasBatch { get; init; } = 32;

    /// <summary>DAS's training: the baselines' dimension and the run's seed.</summary>
    public Edits.Das.DasOptions Das => new(BaselineDimensions, Seed: Seed);

    /// <summary>Whether SAEs are selected on the test split (the oracle and reference rules), not on validation.</summary>
    public bool SelectsOnTest => Selection != SelectionRule.Validation;

    /// <summary>
    /// The reference's smaller conventions, which come with its selection rule: a latent is active in the aware edit when
    /// its magnitude is above 0 (not merely non-zero); the decoder's cosine with the supervised features uses the raw
    /// decoder rows; the candidates' L0 in the Spearman readout is the training epoch's; LD recovered uses every prompt
    /// of the selection split.
    /// </summary>
    public bool ReferenceConventions => Selection == SelectionRule.Reference;

    /// <summary>The selection rule's name in run.json and the reports.</summary>
    public string SelectionName => Selection switch
    {
        SelectionRule.Validation => "validation",
        SelectionRule.Oracle => "test (oracle)",
        _ => "test, per edit type, final SAEs, top-k at its smallest k (the reference's)",
    };
}
