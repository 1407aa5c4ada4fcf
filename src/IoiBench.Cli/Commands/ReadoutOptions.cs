using System.CommandLine;
using IoiBench.Pipeline;

namespace IoiBench.Cli.Commands;

/// <summary>
/// The options of the commands that run the benchmark's readouts (run, score): the leaderboard's columns, the error
/// pathology's, the node-alone edits' and the probes' prompt counts, and the subspace baselines' dimension.
/// </summary>
internal sealed class ReadoutOptions
{
    private readonly Option<string?> _columns = CommonOptions.LeaderboardColumns();
    private readonly Option<int> _pathologyPrompts = CommonOptions.Number("--pathology-prompts",
        "Test prompts for the error pathology (two forward passes per node and method)", fallback: 500, minimum: 1);
    private readonly Option<int> _nodeEditPrompts = CommonOptions.Number("--node-edit-prompts",
        "Test prompts each node of a cross-section of several nodes is edited alone on (0: none)", fallback: 1000,
        minimum: 0);
    private readonly Option<int> _probeTrain = CommonOptions.Number("--probe-train",
        "Train prompts the probes are fitted on (every test prompt scores them)", fallback: 5000, minimum: 1);
    private readonly Option<int> _baselineDims = CommonOptions.BaselineDimensions();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _columns, _pathologyPrompts, _nodeEditPrompts, _probeTrain, _baselineDims }) command.Options.Add(option);
    }

    /// <summary>The options with the parsed readout settings.</summary>
    public BenchmarkOptions Apply(BenchmarkOptions options, ParseResult parse) => options with
    {
        PathologyPrompts = parse.GetValue(_pathologyPrompts),
        NodeEditPrompts = parse.GetValue(_nodeEditPrompts),
        ProbeTrain = parse.GetValue(_probeTrain),
        BaselineDimensions = parse.GetValue(_baselineDims),
        Columns = CommonOptions.Columns(parse, _columns),
    };
}
